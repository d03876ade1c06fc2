//! Storage of e-mail and Zalo/SMS marketing campaigns.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::ids::{EmailCampaignId, ZaloCampaignId};
use crm_domain::marketing::{EmailCampaign, EmailCampaignData, ZaloCampaign, ZaloCampaignData};
use crm_domain::search::{Field, TextField};
use crm_domain::text::Email;
use crm_domain::DomainResult;
use sea_query::SimpleExpr;
use uuid::Uuid;

use crate::table::{v, vm, AuditRow, Table};
use crm_domain::money::Money;

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EmailRow {
    seq: i64,
    id: Uuid,
    code: String,
    name: String,
    description: Option<String>,
    subject: Option<String>,
    supplier: Option<i32>,
    sender: Option<String>,
    display_name: Option<String>,
    template_id: Option<Uuid>,
    template_name: Option<String>,
    send_type: i32,
    segment_id: Option<Uuid>,
    segment_name: Option<String>,
    file_path: Option<String>,
    status: i32,
    appointment_date: Option<DateTime<Utc>>,
    #[sqlx(flatten)]
    audit: AuditRow,
}

#[async_trait]
impl Table for EmailCampaign {
    const TABLE: &'static str = "email_campaigns";
    const ENTITY_CODE: i16 = 13;
    const UNIQUE: Option<(&'static str, &'static str)> =
        Some(("code", "another e-mail campaign already has this code"));
    const COLUMNS: &'static [&'static str] = &[
        "code",
        "name",
        "description",
        "subject",
        "supplier",
        "sender",
        "display_name",
        "template_id",
        "template_name",
        "send_type",
        "segment_id",
        "segment_name",
        "file_path",
        "status",
        "appointment_date",
    ];
    type Row = EmailRow;

    fn from_row(r: EmailRow) -> DomainResult<Self> {
        Ok(EmailCampaign {
            id: EmailCampaignId(r.id),
            seq: r.seq,
            data: EmailCampaignData {
                code: Some(r.code),
                name: r.name,
                description: r.description,
                subject: r.subject,
                supplier: r.supplier,
                from: r.sender.map(Email::from_stored),
                display_name: r.display_name,
                template_id: r.template_id.map(Into::into),
                template_name: r.template_name,
                send_type: r.send_type,
                segment_id: r.segment_id.map(Into::into),
                segment_name: r.segment_name,
                file_path: r.file_path,
                status: r.status,
                appointment_date: r.appointment_date,
            },
            audit: r.audit.into(),
        })
    }
    fn values(d: &EmailCampaignData) -> Vec<SimpleExpr> {
        vec![
            v(d.code.clone()),
            v(d.name.clone()),
            v(d.description.clone()),
            v(d.subject.clone()),
            v(d.supplier),
            v(d.from.as_ref().map(|e| e.as_str().to_owned())),
            v(d.display_name.clone()),
            v(d.template_id.map(|t| t.0)),
            v(d.template_name.clone()),
            v(d.send_type),
            v(d.segment_id.map(|s| s.0)),
            v(d.segment_name.clone()),
            v(d.file_path.clone()),
            v(d.status),
            v(d.appointment_date),
        ]
    }
    fn terms(d: &EmailCampaignData) -> Vec<(TextField, String)> {
        d.terms()
    }
    fn column(field: Field) -> Option<&'static str> {
        Some(match field {
            Field::Status => "status",
            Field::Supplier => "supplier",
            Field::Segment => "segment_id",
            Field::Template => "template_id",
            _ => return None,
        })
    }
    const CODE: Option<&'static str> = Some("EM");
    fn code_slot(data: &mut EmailCampaignData) -> Option<&mut Option<String>> {
        Some(&mut data.code)
    }
    fn keep_on_update(old: &Self, data: &mut EmailCampaignData) {
        if data.code.is_none() {
            data.code.clone_from(&old.data.code);
        }
        if data.file_path.is_none() {
            data.file_path.clone_from(&old.data.file_path);
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ZaloRow {
    seq: i64,
    id: Uuid,
    code: String,
    name: String,
    description: Option<String>,
    channel: Option<i32>,
    social_id: Option<String>,
    social_name: Option<String>,
    zns_template_id: Option<String>,
    zns_template_name: Option<String>,
    zns_template_param: Option<String>,
    zns_template_preview_url: Option<String>,
    zns_template_price: f64,
    sms_template_id: Option<Uuid>,
    sms_template_name: Option<String>,
    sms_template_param: Option<String>,
    send_type: i32,
    segment_id: Option<Uuid>,
    segment_name: Option<String>,
    file_path: Option<String>,
    excel_header: Option<String>,
    status: i32,
    appointment_date: Option<DateTime<Utc>>,
    #[sqlx(flatten)]
    audit: AuditRow,
}

#[async_trait]
impl Table for ZaloCampaign {
    const TABLE: &'static str = "zalo_campaigns";
    const ENTITY_CODE: i16 = 14;
    const UNIQUE: Option<(&'static str, &'static str)> =
        Some(("code", "another Zalo campaign already has this code"));
    const COLUMNS: &'static [&'static str] = &[
        "code",
        "name",
        "description",
        "channel",
        "social_id",
        "social_name",
        "zns_template_id",
        "zns_template_name",
        "zns_template_param",
        "zns_template_preview_url",
        "zns_template_price",
        "sms_template_id",
        "sms_template_name",
        "sms_template_param",
        "send_type",
        "segment_id",
        "segment_name",
        "file_path",
        "excel_header",
        "status",
        "appointment_date",
    ];
    type Row = ZaloRow;

    fn from_row(r: ZaloRow) -> DomainResult<Self> {
        Ok(ZaloCampaign {
            id: ZaloCampaignId(r.id),
            seq: r.seq,
            data: ZaloCampaignData {
                code: Some(r.code),
                name: r.name,
                description: r.description,
                channel: r.channel,
                social_id: r.social_id,
                social_name: r.social_name,
                zns_template_id: r.zns_template_id,
                zns_template_name: r.zns_template_name,
                zns_template_param: r.zns_template_param,
                zns_template_preview_url: r.zns_template_preview_url,
                zns_template_price: Money::from_f64(r.zns_template_price),
                sms_template_id: r.sms_template_id.map(Into::into),
                sms_template_name: r.sms_template_name,
                sms_template_param: r.sms_template_param,
                send_type: r.send_type,
                segment_id: r.segment_id.map(Into::into),
                segment_name: r.segment_name,
                file_path: r.file_path,
                excel_header: r.excel_header,
                status: r.status,
                appointment_date: r.appointment_date,
            },
            audit: r.audit.into(),
        })
    }
    fn values(d: &ZaloCampaignData) -> Vec<SimpleExpr> {
        vec![
            v(d.code.clone()),
            v(d.name.clone()),
            v(d.description.clone()),
            v(d.channel),
            v(d.social_id.clone()),
            v(d.social_name.clone()),
            v(d.zns_template_id.clone()),
            v(d.zns_template_name.clone()),
            v(d.zns_template_param.clone()),
            v(d.zns_template_preview_url.clone()),
            vm(d.zns_template_price),
            v(d.sms_template_id.map(|t| t.0)),
            v(d.sms_template_name.clone()),
            v(d.sms_template_param.clone()),
            v(d.send_type),
            v(d.segment_id.map(|s| s.0)),
            v(d.segment_name.clone()),
            v(d.file_path.clone()),
            v(d.excel_header.clone()),
            v(d.status),
            v(d.appointment_date),
        ]
    }
    fn terms(d: &ZaloCampaignData) -> Vec<(TextField, String)> {
        d.terms()
    }
    fn column(field: Field) -> Option<&'static str> {
        Some(match field {
            Field::Status => "status",
            Field::Channel => "channel",
            Field::Segment => "segment_id",
            Field::Template => "sms_template_id",
            _ => return None,
        })
    }
    const CODE: Option<&'static str> = Some("ZL");
    fn code_slot(data: &mut ZaloCampaignData) -> Option<&mut Option<String>> {
        Some(&mut data.code)
    }
    fn keep_on_update(old: &Self, data: &mut ZaloCampaignData) {
        if data.code.is_none() {
            data.code.clone_from(&old.data.code);
        }
        if data.file_path.is_none() {
            data.file_path.clone_from(&old.data.file_path);
        }
    }
}
