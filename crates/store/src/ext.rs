//! The customer's extension columns (other vendors' attributes): scalars as columns, lists
//! as JSON text.

use crm_domain::customer::{Channel, CustomerExt, FieldValue, FunnelPlace, LabelKind};
use crm_domain::text::{Email, Phone};
use crm_domain::{DomainError, DomainResult};
use sea_query::SimpleExpr;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::table::v;

pub(crate) const EXT_COLUMNS: [&str; 16] = [
    "gender",
    "job_title",
    "avatar_url",
    "passport",
    "owner_email",
    "ref_id",
    "ref_code",
    "ref_type",
    "status_id",
    "type_id",
    "phones_json",
    "emails_json",
    "labels_json",
    "custom_json",
    "funnels_json",
    "party_json",
];

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ExtRow {
    gender: Option<String>,
    job_title: Option<String>,
    avatar_url: Option<String>,
    passport: Option<String>,
    owner_email: Option<String>,
    ref_id: Option<String>,
    ref_code: Option<String>,
    ref_type: Option<String>,
    status_id: Option<Uuid>,
    type_id: Option<Uuid>,
    phones_json: Option<String>,
    emails_json: Option<String>,
    labels_json: Option<String>,
    custom_json: Option<String>,
    funnels_json: Option<String>,
    party_json: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct PartyJson {
    kind: String,
    opening_balance: crm_domain::money::Money,
    credit_limit: crm_domain::money::Money,
    birthday: Option<chrono::NaiveDate>,
    gender: Option<i32>,
    account_name: Option<String>,
    account_address: Option<String>,
    account_no: Option<String>,
    resources: Vec<(i64, String)>,
    #[serde(default)]
    branch_id: Option<crm_domain::ids::PlaceId>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ChannelJson {
    v: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    l: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct LabelJson {
    k: i32,
    n: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct CustomJson {
    f: Uuid,
    v: Vec<ChannelJson>,
}

#[derive(Debug, Serialize, Deserialize)]
struct FunnelJson {
    f: Uuid,
    i: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<i32>,
}

fn parse<T: for<'de> Deserialize<'de>>(raw: Option<String>) -> DomainResult<Vec<T>> {
    match raw {
        None => Ok(Vec::new()),
        Some(s) => serde_json::from_str(&s)
            .map_err(|e| DomainError::Internal(anyhow::anyhow!("stored customer list: {e}"))),
    }
}

fn json<T: Serialize>(items: &[T]) -> Option<String> {
    (!items.is_empty()).then(|| serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned()))
}

impl ExtRow {
    pub(crate) fn into_ext(self) -> DomainResult<CustomerExt> {
        let phones: Vec<ChannelJson> = parse(self.phones_json)?;
        let emails: Vec<ChannelJson> = parse(self.emails_json)?;
        let labels: Vec<LabelJson> = parse(self.labels_json)?;
        let custom: Vec<CustomJson> = parse(self.custom_json)?;
        let funnels: Vec<FunnelJson> = parse(self.funnels_json)?;
        let party: Option<PartyJson> = match self.party_json {
            None => None,
            Some(s) => Some(serde_json::from_str(&s).map_err(|e| {
                DomainError::Internal(anyhow::anyhow!("stored customer party: {e}"))
            })?),
        };
        Ok(CustomerExt {
            phones: phones
                .into_iter()
                .map(|c| Channel {
                    value: Phone::from_stored(c.v),
                    kind: c.t,
                    label: c.l,
                })
                .collect(),
            emails: emails
                .into_iter()
                .map(|c| Channel {
                    value: Email::from_stored(c.v),
                    kind: c.t,
                    label: c.l,
                })
                .collect(),
            gender: self.gender,
            job_title: self.job_title,
            avatar_url: self.avatar_url,
            passport: self.passport,
            owner_email: self.owner_email.map(Email::from_stored),
            ref_id: self.ref_id,
            ref_code: self.ref_code,
            ref_type: self.ref_type,
            status_id: self.status_id,
            type_id: self.type_id,
            labels: labels
                .into_iter()
                .filter_map(|l| LabelKind::from_code(l.k).map(|k| (k, l.n)))
                .collect(),
            custom: custom
                .into_iter()
                .map(|c| {
                    (
                        c.f,
                        c.v.into_iter()
                            .map(|v| FieldValue {
                                data: v.v,
                                kind: v.t,
                                label: v.l,
                            })
                            .collect(),
                    )
                })
                .collect(),
            funnels: funnels
                .into_iter()
                .map(|f| FunnelPlace {
                    funnel_id: f.f,
                    index: f.i,
                    second_index: f.s,
                })
                .collect(),
            party: party.map(|p| crm_domain::customer::Party {
                kind: p.kind,
                opening_balance: p.opening_balance,
                credit_limit: p.credit_limit,
                birthday: p.birthday,
                gender: p.gender,
                account_name: p.account_name,
                account_address: p.account_address,
                account_no: p.account_no,
                resources: p.resources,
                branch_id: p.branch_id,
            }),
        })
    }
}

pub(crate) fn ext_values(ext: Option<&CustomerExt>) -> Vec<SimpleExpr> {
    let default = CustomerExt::default();
    let e = ext.unwrap_or(&default);
    let channel = |value: &str, kind: &Option<String>, label: &Option<String>| ChannelJson {
        v: value.to_owned(),
        t: kind.clone(),
        l: label.clone(),
    };
    let phones: Vec<ChannelJson> = e
        .phones
        .iter()
        .map(|c| channel(c.value.as_str(), &c.kind, &c.label))
        .collect();
    let emails: Vec<ChannelJson> = e
        .emails
        .iter()
        .map(|c| channel(c.value.as_str(), &c.kind, &c.label))
        .collect();
    let labels: Vec<LabelJson> = e
        .labels
        .iter()
        .map(|(k, n)| LabelJson {
            k: k.code(),
            n: n.clone(),
        })
        .collect();
    let custom: Vec<CustomJson> = e
        .custom
        .iter()
        .map(|(f, values)| CustomJson {
            f: *f,
            v: values
                .iter()
                .map(|x| channel(&x.data, &x.kind, &x.label))
                .collect(),
        })
        .collect();
    let funnels: Vec<FunnelJson> = e
        .funnels
        .iter()
        .map(|f| FunnelJson {
            f: f.funnel_id,
            i: f.index,
            s: f.second_index,
        })
        .collect();
    vec![
        v(e.gender.clone()),
        v(e.job_title.clone()),
        v(e.avatar_url.clone()),
        v(e.passport.clone()),
        v(e.owner_email.as_ref().map(|m| m.as_str().to_owned())),
        v(e.ref_id.clone()),
        v(e.ref_code.clone()),
        v(e.ref_type.clone()),
        v(e.status_id),
        v(e.type_id),
        v(json(&phones)),
        v(json(&emails)),
        v(json(&labels)),
        v(json(&custom)),
        v(json(&funnels)),
        v(e.party.as_ref().map(|p| {
            serde_json::to_string(&PartyJson {
                kind: p.kind.clone(),
                opening_balance: p.opening_balance,
                credit_limit: p.credit_limit,
                birthday: p.birthday,
                gender: p.gender,
                account_name: p.account_name.clone(),
                account_address: p.account_address.clone(),
                account_no: p.account_no.clone(),
                resources: p.resources.clone(),
                branch_id: p.branch_id,
            })
            .unwrap_or_else(|_| "{}".to_owned())
        })),
    ]
}
