//! E-mail and Zalo/SMS marketing campaigns: stored and checked here; they send through
//! `crate::campaign` (their plan is made in `service::marketing`).

use chrono::{DateTime, Utc};

use crate::common::{code_or, int_in, money, required, text, Audit, LONG, SHORT};
use crate::error::{DomainError, DomainResult};
use crate::ids::{EmailCampaignId, SegmentId, TemplateId, ZaloCampaignId};
use crate::search::{TermSet, TextField};
use crate::text::Email;

/// Send type (our codes): now, or at `appointment_date`.
pub const SEND_NOW: i32 = 1;
pub const SEND_SCHEDULED: i32 = 2;

/// Campaign statuses (ours; the doc names `MarketingStatus` without values): a campaign's
/// status follows its send once it has one.
pub const STATUS_NEW: i32 = 1;
pub const STATUS_SCHEDULED: i32 = 2;
pub const STATUS_SENDING: i32 = 3;
pub const STATUS_SENT: i32 = 4;
pub const STATUS_CANCELLED: i32 = 5;

fn check_schedule(send_type: i32, at: Option<DateTime<Utc>>) -> DomainResult<()> {
    if send_type == SEND_SCHEDULED && at.is_none() {
        return Err(DomainError::validation(
            "appointment_date",
            "is required for a scheduled send (sendType 2)",
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct EmailCampaignData {
    /// `None` only before the store assigns one (`EM000001`).
    pub code: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub subject: Option<String>,
    pub supplier: Option<i32>,
    pub from: Option<Email>,
    pub display_name: Option<String>,
    pub template_id: Option<TemplateId>,
    pub template_name: Option<String>,
    pub send_type: i32,
    pub segment_id: Option<SegmentId>,
    pub segment_name: Option<String>,
    /// The uploaded file's download path (or a path the caller gave).
    pub file_path: Option<String>,
    pub status: i32,
    pub appointment_date: Option<DateTime<Utc>>,
}

/// The raw sender address, checked by [`EmailCampaignInput::validate`].
#[derive(Debug, Clone, Default)]
pub struct EmailCampaignInput {
    pub data: EmailCampaignData,
    pub from: Option<String>,
}

impl EmailCampaignInput {
    pub fn validate(self) -> DomainResult<EmailCampaignData> {
        let d = self.data;
        let send_type = code_or(
            "send_type",
            Some(d.send_type),
            SEND_NOW..=SEND_SCHEDULED,
            SEND_NOW,
        )?;
        check_schedule(send_type, d.appointment_date)?;
        Ok(EmailCampaignData {
            code: text("code", d.code, SHORT)?,
            name: required("name", Some(d.name), SHORT)?,
            description: text("description", d.description, LONG)?,
            subject: text("subject", d.subject, SHORT)?,
            supplier: int_in("supplier", d.supplier.filter(|s| *s != 0), 1..=99)?,
            from: text("from", self.from, SHORT)?
                .map(|e| Email::parse("from", &e))
                .transpose()?,
            display_name: text("display_name", d.display_name, SHORT)?,
            template_name: None,
            segment_name: None,
            send_type,
            file_path: text("file_path", d.file_path, LONG)?,
            status: code_or("status", Some(d.status), 1..=99, STATUS_NEW)?,
            ..d
        })
    }
}

impl EmailCampaignData {
    pub fn terms(&self) -> Vec<(TextField, String)> {
        TermSet::new()
            .words(TextField::Name, Some(&self.name))
            .words(TextField::Code, self.code.as_deref())
            .words(TextField::Subject, self.subject.as_deref())
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EmailCampaign {
    pub id: EmailCampaignId,
    pub seq: i64,
    pub data: EmailCampaignData,
    pub audit: Audit,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ZaloCampaignData {
    /// `None` only before the store assigns one (`ZL000001`).
    pub code: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub channel: Option<i32>,
    pub social_id: Option<String>,
    pub social_name: Option<String>,
    pub zns_template_id: Option<String>,
    pub zns_template_name: Option<String>,
    pub zns_template_param: Option<String>,
    pub zns_template_preview_url: Option<String>,
    pub zns_template_price: crate::money::Money,
    pub sms_template_id: Option<TemplateId>,
    pub sms_template_name: Option<String>,
    pub sms_template_param: Option<String>,
    pub send_type: i32,
    pub segment_id: Option<SegmentId>,
    pub segment_name: Option<String>,
    pub file_path: Option<String>,
    /// Which spreadsheet column holds what (as the caller describes it).
    pub excel_header: Option<String>,
    pub status: i32,
    pub appointment_date: Option<DateTime<Utc>>,
}

impl ZaloCampaignData {
    pub fn validate(self) -> DomainResult<Self> {
        let send_type = code_or(
            "send_type",
            Some(self.send_type),
            SEND_NOW..=SEND_SCHEDULED,
            SEND_NOW,
        )?;
        check_schedule(send_type, self.appointment_date)?;
        Ok(Self {
            code: text("code", self.code, SHORT)?,
            name: required("name", Some(self.name), SHORT)?,
            description: text("description", self.description, LONG)?,
            channel: int_in("channel", self.channel.filter(|c| *c != 0), 1..=99)?,
            social_id: text("social_id", self.social_id, SHORT)?,
            social_name: text("social_name", self.social_name, SHORT)?,
            zns_template_id: text("zns_template_id", self.zns_template_id, SHORT)?,
            zns_template_name: text("zns_template_name", self.zns_template_name, SHORT)?,
            zns_template_param: text("zns_template_param", self.zns_template_param, LONG)?,
            zns_template_preview_url: text(
                "zns_template_preview_url",
                self.zns_template_preview_url,
                LONG,
            )?,
            zns_template_price: money("zns_template_price", self.zns_template_price)?,
            sms_template_name: None,
            sms_template_param: text("sms_template_param", self.sms_template_param, LONG)?,
            send_type,
            segment_name: None,
            file_path: text("file_path", self.file_path, LONG)?,
            excel_header: text("excel_header", self.excel_header, LONG)?,
            status: code_or("status", Some(self.status), 1..=99, STATUS_NEW)?,
            ..self
        })
    }

    pub fn terms(&self) -> Vec<(TextField, String)> {
        TermSet::new()
            .words(TextField::Name, Some(&self.name))
            .words(TextField::Code, self.code.as_deref())
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ZaloCampaign {
    pub id: ZaloCampaignId,
    pub seq: i64,
    pub data: ZaloCampaignData,
    pub audit: Audit,
}
