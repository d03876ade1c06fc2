//! Exports: the records a search would find, newest first, a page at a time (keyset on the
//! integer id, so a page costs the same however deep), appended to a staged file whose length
//! is recorded with the cursor: a run cut short resumes where it stopped, cutting off what was
//! written after the last recorded page. The last run writes the sheet (`.csv` or `.xlsx`),
//! Vietnamese headers, money in dong, dates in the starter's time zone.

use std::io::Seek;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use super::{Crm, Managed};
use crate::common::Actor;
use crate::contact::Contact;
use crate::customer::Customer;
use crate::error::{DomainError, DomainResult};
use crate::ids::{ProductId, TenantId};
use crate::lead::Lead;
use crate::messaging::MessageFilter;
use crate::sales::{Order, Product};
use crate::search::{Field, Filter, PageRequest};
use crate::transfer::write::{Cell, SheetWriter};
use crate::transfer::{
    Direction, ExportFilter, Format, Kind, Starter, State, Transfer, TransferPlan, EXPORT_JOB,
};
use crate::work::At;

/// Records read per page.
const PAGE: u32 = 500;

/// How a column's staged text is written in the sheet.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Col {
    Text,
    Money,
    Number,
    Date,
    DateTime,
}

fn headers(kind: Kind) -> Vec<(&'static str, Col)> {
    use Col::*;
    match kind {
        Kind::Customers => vec![
            ("Mã KH", Text),
            ("Họ và tên", Text),
            ("Loại khách hàng", Text),
            ("Số điện thoại", Text),
            ("Email", Text),
            ("Địa chỉ", Text),
            ("Nhóm khách hàng", Text),
            ("Ngày sinh", Date),
            ("Giới tính", Text),
            ("Mã số thuế", Text),
            ("Website", Text),
            ("Ghi chú", Text),
            ("Ngày tạo", DateTime),
        ],
        Kind::Contacts => vec![
            ("Mã liên hệ", Text),
            ("Họ và tên", Text),
            ("Công ty", Text),
            ("Chức vụ", Text),
            ("Phòng ban", Text),
            ("Số điện thoại", Text),
            ("Email", Text),
            ("Giới tính", Text),
            ("Ngày sinh", Date),
            ("Địa chỉ", Text),
            ("Ghi chú", Text),
            ("Ngày tạo", DateTime),
        ],
        Kind::Leads => vec![
            ("Họ và tên", Text),
            ("Số điện thoại", Text),
            ("Email", Text),
            ("Công ty", Text),
            ("Chức vụ", Text),
            ("Địa chỉ", Text),
            ("Website", Text),
            ("Ngày sinh", Date),
            ("Giới tính", Text),
            ("Nguồn", Text),
            ("Ghi chú", Text),
            ("Ngày tạo", DateTime),
        ],
        Kind::Products => vec![
            ("Mã hàng", Text),
            ("Tên hàng", Text),
            ("Đơn vị tính", Text),
            ("Giá bán", Money),
            ("Giá nhập", Money),
            ("Đơn vị quy đổi", Text),
            ("Nhóm hàng", Text),
            ("Mô tả", Text),
        ],
        Kind::Orders => vec![
            ("Mã đơn hàng", Text),
            ("Ngày đặt", DateTime),
            ("Khách hàng", Text),
            ("Trạng thái", Number),
            ("Tổng tiền", Money),
            ("Mã hàng", Text),
            ("Tên hàng", Text),
            ("Đơn vị tính", Text),
            ("Số lượng", Number),
            ("Đơn giá", Money),
            ("Thành tiền", Money),
        ],
        Kind::Messages => vec![
            ("Kênh", Text),
            ("Chiến dịch", Text),
            ("Người nhận", Text),
            ("Trạng thái", Text),
            ("Mã nhà cung cấp", Text),
            ("Lý do", Text),
            ("Số lần gửi", Number),
            ("Ngày tạo", DateTime),
            ("Ngày gửi", DateTime),
        ],
    }
}

fn io(e: impl std::fmt::Display) -> DomainError {
    DomainError::Internal(anyhow::anyhow!("writing an export: {e}"))
}

fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string()
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn gender_vi(g: &str) -> &'static str {
    match g {
        "male" => "Nam",
        "female" => "Nữ",
        _ => "Khác",
    }
}

/// A page of staged rows and the cursor after it (`None`: the last page).
type Page = (Vec<Vec<String>>, Option<i64>);

impl Crm {
    /// Starts an export of `kind` as `format` with the search's filters; one unit of work
    /// records it and enqueues its job (with `inline`, a fallback: see `start_import`).
    pub async fn start_export(
        &self,
        actor: &Actor,
        kind: Kind,
        format: Format,
        filter: ExportFilter,
        inline: bool,
    ) -> DomainResult<Transfer> {
        if filter
            .search
            .as_ref()
            .is_some_and(|s| s.chars().count() > 256)
        {
            return Err(DomainError::validation("search", "at most 256 characters"));
        }
        let now = crate::auth::now();
        let stamp = now.with_timezone(&actor.time_zone).format("%Y%m%d-%H%M");
        let mut t = Transfer {
            id: Uuid::now_v7(),
            tenant_id: actor.tenant_id,
            direction: Direction::Export,
            kind,
            format,
            state: State::Queued,
            file_name: format!("{}-{stamp}.{}", kind.as_str(), format.as_str()),
            plan: String::new(),
            total: -1,
            done: 0,
            created: 0,
            updated: 0,
            skipped: 0,
            failed: 0,
            cursor: i64::MAX,
            error: None,
            created_at: now,
            updated_at: now,
            finished_at: None,
        };
        t.set_plan(&TransferPlan {
            starter: Some(Starter::of(actor)),
            export: filter,
            ..TransferPlan::default()
        })?;
        let mut w = self.begin().await?;
        self.transfers.create_transfer(&mut w, &t).await?;
        self.enqueue_transfer(&mut w, &t, EXPORT_JOB, inline)
            .await?;
        w.commit().await?;
        Ok(t)
    }

    /// Runs an export for about `budget` (see the module's doc); answers whether it has
    /// finished. A run that stops short has queued the job that goes on (unless `inline`).
    pub async fn run_export(
        &self,
        tenant: TenantId,
        id: Uuid,
        budget: Duration,
        inline: bool,
        progress: &(dyn Fn(&Transfer) + Send + Sync),
    ) -> DomainResult<bool> {
        let started = Instant::now();
        loop {
            let Some(super::transfers::Run {
                mut w,
                mut t,
                mut plan,
                actor,
                paths,
            }) = self.next_run(tenant, id).await?
            else {
                return Ok(true);
            };
            if t.total < 0 {
                t.total = self.export_total(&actor, t.kind, &plan.export).await?;
                t.state = State::Running;
            }
            let (rows, next) = self
                .export_page(&actor, t.kind, &plan.export, t.cursor)
                .await?;
            // Appended after what the last recorded page left (a crash's tail is cut off).
            let staged = paths.rows();
            let written = plan.written;
            let count = rows.len() as i64;
            let appended = tokio::task::spawn_blocking(move || -> DomainResult<u64> {
                let mut file = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&staged)
                    .map_err(io)?;
                if file.metadata().map_err(io)?.len() < written {
                    return Err(io("the staged rows are shorter than recorded"));
                }
                file.set_len(written).map_err(io)?;
                file.seek(std::io::SeekFrom::End(0)).map_err(io)?;
                let mut csv = csv::WriterBuilder::new()
                    .flexible(true)
                    .from_writer(std::io::BufWriter::new(&mut file));
                for r in &rows {
                    csv.write_record(r).map_err(io)?;
                }
                csv.flush().map_err(io)?;
                drop(csv);
                file.sync_data().map_err(io)?;
                file.stream_position().map_err(io)
            })
            .await
            .map_err(|e| DomainError::Internal(e.into()))??;
            plan.written = appended;
            t.set_plan(&plan)?;
            t.done += count;
            t.updated_at = crate::auth::now();
            match next {
                Some(cursor) => t.cursor = cursor,
                None => {
                    drop(w);
                    let tz = actor.time_zone;
                    self.write_export(&t, &paths, tz).await?;
                    w = self.begin().await?;
                    let mut current = self
                        .transfers
                        .lock_transfer(&mut w, tenant, id)
                        .await?
                        .ok_or(DomainError::not_found("transfer"))?;
                    current.plan = t.plan.clone();
                    current.done = t.done;
                    current.total = current.total.max(t.done);
                    current.state = State::Done;
                    current.finished_at = Some(crate::auth::now());
                    current.updated_at = current.finished_at.unwrap_or(t.updated_at);
                    self.transfers.save_transfer(&mut w, &current).await?;
                    w.commit().await?;
                    progress(&current);
                    return Ok(true);
                }
            }
            let hand_over = !inline && started.elapsed() >= budget;
            if hand_over {
                self.enqueue_transfer(&mut w, &t, EXPORT_JOB, false).await?;
            }
            self.transfers.save_transfer(&mut w, &t).await?;
            w.commit().await?;
            progress(&t);
            if hand_over {
                return Ok(false);
            }
        }
    }

    /// The search's filter, with the keyset cursor.
    fn export_filter(f: &ExportFilter, below: i64) -> Filter {
        let mut filter = Filter::all().and(f.search.as_deref().and_then(|s| Filter::text(None, s)));
        if f.from.is_some() || f.to.is_some() {
            filter = filter.and(Some(Filter::Range {
                field: Field::CreatedAt,
                from: f.from,
                to: f.to,
            }));
        }
        if below < i64::MAX {
            filter = filter.and(Some(Filter::SeqBelow(below)));
        }
        filter
    }

    async fn export_total(&self, actor: &Actor, kind: Kind, f: &ExportFilter) -> DomainResult<i64> {
        let filter = Self::export_filter(f, i64::MAX);
        let n = match kind {
            Kind::Customers => {
                self.count_at::<Customer>(At::Committed, actor, &filter)
                    .await?
            }
            Kind::Contacts => {
                self.count_at::<Contact>(At::Committed, actor, &filter)
                    .await?
            }
            Kind::Leads => self.count_at::<Lead>(At::Committed, actor, &filter).await?,
            Kind::Products => {
                self.count_at::<Product>(At::Committed, actor, &filter)
                    .await?
            }
            Kind::Orders => {
                self.count_at::<Order>(At::Committed, actor, &filter)
                    .await?
            }
            Kind::Messages => return Ok(-1),
        };
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }

    /// One page of records below `cursor`, as staged rows (dates as ISO text in the starter's
    /// zone), and the cursor after it.
    async fn export_page(
        &self,
        actor: &Actor,
        kind: Kind,
        f: &ExportFilter,
        cursor: i64,
    ) -> DomainResult<Page> {
        let tz = actor.time_zone;
        let filter = Self::export_filter(f, cursor);
        let page = PageRequest::new(1, PAGE)?;
        fn next<T>(items: &[T], seq: impl Fn(&T) -> i64) -> Option<i64> {
            (items.len() == PAGE as usize)
                .then(|| items.last().map(seq))
                .flatten()
        }
        Ok(match kind {
            Kind::Customers => {
                let items = Customer::repo(self)
                    .scan(At::Committed, actor.tenant_id, &filter, PAGE)
                    .await?;
                let rows = items
                    .iter()
                    .map(|c| {
                        let d = &c.data;
                        let ext = d.ext.clone().unwrap_or_default();
                        let phones: Vec<&str> =
                            ext.phones.iter().map(|p| p.value.as_str()).collect();
                        let phone = if phones.is_empty() {
                            d.phone
                                .as_ref()
                                .map(|p| p.as_str().to_owned())
                                .unwrap_or_default()
                        } else {
                            phones.join("; ")
                        };
                        vec![
                            opt(&d.code),
                            d.name.clone(),
                            if d.kind == crate::customer::KIND_ORGANISATION {
                                "Doanh nghiệp"
                            } else {
                                "Cá nhân"
                            }
                            .to_owned(),
                            phone,
                            d.email
                                .as_ref()
                                .map(|e| e.as_str().to_owned())
                                .unwrap_or_default(),
                            opt(&d.address),
                            opt(&c.group_name),
                            ext.party
                                .as_ref()
                                .and_then(|p| p.birthday)
                                .map(|b| b.to_string())
                                .unwrap_or_default(),
                            ext.gender
                                .as_deref()
                                .map(gender_vi)
                                .unwrap_or_default()
                                .to_owned(),
                            opt(&d.tax_code),
                            opt(&d.website),
                            opt(&d.note),
                            local(c.audit.created_at, tz),
                        ]
                    })
                    .collect();
                (rows, next(&items, |c| c.seq))
            }
            Kind::Contacts => {
                let items = Contact::repo(self)
                    .scan(At::Committed, actor.tenant_id, &filter, PAGE)
                    .await?;
                let rows = items
                    .iter()
                    .map(|c| {
                        let d = &c.data;
                        vec![
                            opt(&d.code),
                            d.full_name.clone(),
                            opt(&c.customer_name),
                            opt(&d.position),
                            opt(&d.department),
                            d.phone
                                .as_ref()
                                .map(|p| p.as_str().to_owned())
                                .unwrap_or_default(),
                            d.email
                                .as_ref()
                                .map(|e| e.as_str().to_owned())
                                .unwrap_or_default(),
                            d.gender
                                .map(|g| ["", "Nam", "Nữ", "Khác"][g.clamp(0, 3) as usize])
                                .unwrap_or_default()
                                .to_owned(),
                            d.birthday.map(|b| b.to_string()).unwrap_or_default(),
                            opt(&d.address),
                            opt(&d.note),
                            local(c.audit.created_at, tz),
                        ]
                    })
                    .collect();
                (rows, next(&items, |c| c.seq))
            }
            Kind::Leads => {
                let items = Lead::repo(self)
                    .scan(At::Committed, actor.tenant_id, &filter, PAGE)
                    .await?;
                let rows = items
                    .iter()
                    .map(|l| {
                        let d = &l.data;
                        let ext = d.ext.clone().unwrap_or_default();
                        vec![
                            d.full_name.clone(),
                            d.phone
                                .as_ref()
                                .map(|p| p.as_str().to_owned())
                                .unwrap_or_default(),
                            d.email
                                .as_ref()
                                .map(|e| e.as_str().to_owned())
                                .unwrap_or_default(),
                            opt(&d.company),
                            opt(&d.position),
                            opt(&ext.address),
                            opt(&ext.website),
                            ext.birthday.map(|b| b.to_string()).unwrap_or_default(),
                            ext.sex
                                .as_deref()
                                .map(gender_vi)
                                .unwrap_or_default()
                                .to_owned(),
                            d.source.map(|s| s.to_string()).unwrap_or_default(),
                            opt(&d.notes),
                            local(l.audit.created_at, tz),
                        ]
                    })
                    .collect();
                (rows, next(&items, |l| l.seq))
            }
            Kind::Products => {
                let items = Product::repo(self)
                    .scan(At::Committed, actor.tenant_id, &filter, PAGE)
                    .await?;
                let ids: Vec<ProductId> = items.iter().map(|p| p.id).collect();
                let units = self
                    .sales
                    .product_units(At::Committed, actor.tenant_id, &ids)
                    .await?;
                let rows = items
                    .iter()
                    .map(|p| {
                        let d = &p.data;
                        let extra: Vec<String> = units
                            .iter()
                            .filter(|u| u.product_id == p.id)
                            .map(|u| {
                                format!(
                                    "{}={}:{}",
                                    u.unit_name.clone().unwrap_or_default(),
                                    u.rate,
                                    u.retail_price
                                )
                            })
                            .collect();
                        vec![
                            opt(&d.code),
                            d.name.clone(),
                            opt(&d.unit_name),
                            d.retail_price.to_string(),
                            d.import_price.to_string(),
                            extra.join("; "),
                            opt(&d.group_name),
                            opt(&d.note),
                        ]
                    })
                    .collect();
                let mut rows: Vec<Vec<String>> = rows;
                self.add_stock_columns(actor, &ids, &mut rows).await?;
                (rows, next(&items, |p| p.seq))
            }
            Kind::Orders => {
                let items = Order::repo(self)
                    .scan(At::Committed, actor.tenant_id, &filter, PAGE)
                    .await?;
                let mut rows = Vec::new();
                for o in &items {
                    let d = &o.data;
                    let head = vec![
                        opt(&d.code),
                        d.order_date.map(|t| local(t, tz)).unwrap_or_default(),
                        opt(&d.customer_name),
                        d.status.to_string(),
                        d.total_amount.to_string(),
                    ];
                    if d.lines.is_empty() {
                        let mut r = head.clone();
                        r.extend(std::iter::repeat_n(String::new(), 6));
                        rows.push(r);
                    }
                    for l in &d.lines {
                        let mut r = head.clone();
                        r.extend([
                            opt(&l.product_code),
                            opt(&l.product_name),
                            opt(&l.unit_name),
                            l.quantity.to_string(),
                            l.price.map(|p| p.to_string()).unwrap_or_default(),
                            l.amount.to_string(),
                        ]);
                        rows.push(r);
                    }
                }
                (rows, next(&items, |o| o.seq))
            }
            Kind::Messages => {
                let mf = MessageFilter {
                    campaign: f.campaign.clone(),
                    from: f.from,
                    to: f.to,
                    below_seq: (cursor < i64::MAX).then_some(cursor),
                    ..MessageFilter::default()
                };
                let items = self.messages.messages(actor.tenant_id, &mf, page).await?;
                let rows = items
                    .iter()
                    .map(|m| {
                        vec![
                            m.channel.as_str().to_owned(),
                            m.campaign.clone(),
                            m.recipient.clone(),
                            m.state.as_str().to_owned(),
                            opt(&m.provider_id),
                            opt(&m.reason),
                            m.attempts.to_string(),
                            local(m.created_at, tz),
                            m.sent_at.map(|t| local(t, tz)).unwrap_or_default(),
                        ]
                    })
                    .collect();
                (rows, next(&items, |m| m.seq))
            }
        })
    }

    /// A product page's stock in each store, as one more column per store.
    async fn add_stock_columns(
        &self,
        actor: &Actor,
        ids: &[ProductId],
        rows: &mut [Vec<String>],
    ) -> DomainResult<()> {
        let stores = self
            .inventory
            .places(At::Committed, actor.tenant_id, true, None)
            .await?;
        for s in &stores {
            let levels = self
                .inventory
                .stock(At::Committed, actor.tenant_id, ids, s.branch_id, Some(s.id))
                .await?;
            for (row, id) in rows.iter_mut().zip(ids) {
                let q = levels
                    .iter()
                    .find(|(p, _)| p == id)
                    .map_or(0.0, |(_, q)| *q);
                row.push(q.to_string());
            }
        }
        Ok(())
    }

    /// The sheet from the staged rows, then the rows' count.
    async fn write_export(
        &self,
        t: &Transfer,
        paths: &crate::transfer::Paths,
        tz: Tz,
    ) -> DomainResult<()> {
        let mut cols = headers(t.kind);
        let mut header: Vec<String> = cols.iter().map(|(h, _)| (*h).to_owned()).collect();
        if t.kind == Kind::Products {
            let actor = Actor {
                tenant_id: t.tenant_id,
                id: Uuid::nil(),
                name: String::new(),
                account: String::new(),
                time_zone: tz,
            };
            for s in self.places(&actor, true, None).await? {
                header.push(format!("Tồn kho: {}", s.name));
                cols.push(("", Col::Number));
            }
        }
        let (staged, out, format) = (paths.rows(), paths.output(t.format), t.format);
        tokio::task::spawn_blocking(move || -> DomainResult<()> {
            let tmp = out.with_extension("partial");
            let mut w = SheetWriter::create(&tmp, format, &header)?;
            if staged.exists() {
                let mut csv = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .from_path(&staged)
                    .map_err(io)?;
                let mut record = csv::StringRecord::new();
                while csv.read_record(&mut record).map_err(io)? {
                    let cells: Vec<Cell> = record
                        .iter()
                        .zip(
                            cols.iter()
                                .map(|(_, c)| *c)
                                .chain(std::iter::repeat(Col::Text)),
                        )
                        .map(|(text, col)| typed(text, col))
                        .collect();
                    w.row(&cells)?;
                }
            }
            w.finish()?;
            std::fs::rename(&tmp, &out).map_err(io)
        })
        .await
        .map_err(|e| DomainError::Internal(e.into()))?
    }
}

/// A staged cell as the sheet writes it.
fn typed(text: &str, col: Col) -> Cell {
    if text.is_empty() {
        return Cell::Empty;
    }
    match col {
        Col::Text => Cell::Text(text.to_owned()),
        Col::Money => text
            .parse()
            .map_or_else(|_| Cell::Text(text.to_owned()), Cell::Money),
        Col::Number => text
            .parse()
            .map_or_else(|_| Cell::Text(text.to_owned()), Cell::Number),
        Col::Date => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_or_else(|_| Cell::Text(text.to_owned()), Cell::Date),
        Col::DateTime => chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
            .map_or_else(|_| Cell::Text(text.to_owned()), Cell::DateTime),
    }
}
