//! Support tickets, their types and their comment threads.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::common::{code_or, int_in, required, text, Audit, Ownership, LONG, SHORT};
use crate::error::DomainResult;
use crate::ids::{CommentId, ContactId, CustomerId, OrderId, ProductId, TicketId};
use crate::search::{TermSet, TextField};

/// Ticket status (seed 000, `GET /ticket/change/status/{id}/{status}`).
pub const STATUS_RECEIVED: i32 = 1;
pub const STATUS_IN_PROGRESS: i32 = 2;
pub const STATUS_DONE: i32 = 3;
pub const STATUS_CANCELLED: i32 = 4;
pub const STATUSES: std::ops::RangeInclusive<i32> = STATUS_RECEIVED..=STATUS_CANCELLED;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TicketData {
    /// `None` only before the store assigns one (`TK000001`).
    pub code: Option<String>,
    pub subject: String,
    pub description: Option<String>,
    pub type_id: Option<crate::ids::TicketTypeId>,
    pub type_name: Option<String>,
    pub priority: Option<i32>,
    pub status: i32,
    pub channel: Option<i32>,
    pub customer_id: Option<CustomerId>,
    pub customer_name: Option<String>,
    pub contact_id: Option<ContactId>,
    pub contact_name: Option<String>,
    pub product_id: Option<ProductId>,
    pub product_name: Option<String>,
    pub order_id: Option<OrderId>,
    pub order_code: Option<String>,
    /// When the customer raised it (the doc lets the caller set `CreatedOn`); now by default.
    pub reported_at: Option<DateTime<Utc>>,
    pub ownership: Ownership,
}

impl TicketData {
    pub fn validate(self) -> DomainResult<Self> {
        Ok(Self {
            code: text("code", self.code, SHORT)?,
            subject: required("subject", Some(self.subject), SHORT)?,
            description: text("description", self.description, LONG)?,
            type_id: self.type_id.and_then(crate::ids::TicketTypeId::nonzero),
            type_name: None,
            priority: int_in("priority", self.priority, 0..=99)?,
            status: code_or("status", Some(self.status), STATUSES, STATUS_RECEIVED)?,
            channel: int_in("channel", self.channel, 0..=99)?,
            customer_name: None,
            contact_name: None,
            product_name: None,
            order_code: None,
            ownership: self.ownership.validate()?,
            ..self
        })
    }

    pub fn terms(&self) -> Vec<(TextField, String)> {
        TermSet::new()
            .words(TextField::Subject, Some(&self.subject))
            .words(TextField::Code, self.code.as_deref())
            .words(TextField::CustomerName, self.customer_name.as_deref())
            .words(TextField::ContactName, self.contact_name.as_deref())
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub id: TicketId,
    pub seq: i64,
    pub data: TicketData,
    pub audit: Audit,
}

/// A kind of ticket (integer id).
#[derive(Debug, Clone, PartialEq)]
pub struct TicketType {
    pub id: crate::ids::TicketTypeId,
    pub name: String,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A message in a ticket's thread.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: CommentId,
    pub ticket_id: TicketId,
    pub user_id: Option<Uuid>,
    pub user_name: Option<String>,
    pub message: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Most characters in a comment.
pub const MAX_MESSAGE: usize = 20_000;
