//! Newtype ids: a customer id can never be passed where a lead id is expected.

use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, schemars::JsonSchema,
        )]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id (UUIDv7 keeps index inserts local).
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    )*};
}

id_type!(
    /// A workspace: every row belongs to exactly one.
    TenantId,
    /// An API client of a tenant (the actor behind API calls).
    ApiClientId,
    CustomerId,
    CustomerGroupId,
    ContactId,
    LeadId,
    ActivityId,
    OpportunityId,
    TemplateId,
    SegmentId,
    CampaignId,
    ProductId,
    OrderId,
    TicketId,
    CommentId,
    EmailCampaignId,
    ZaloCampaignId,
    VocabId,
    FileId,
);

macro_rules! int_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, schemars::JsonSchema,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// `None` for 0, the vendors' "none" on the wire.
            pub fn nonzero(self) -> Option<Self> {
                (self.0 != 0).then_some(self)
            }

            pub fn is_zero(self) -> bool {
                self.0 == 0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                Self(id)
            }
        }
    )*};
}

// Records whose only id is an integer the store assigns (the vendors' wire ids). They
// serialise as the bare integer, so stored JSON and wire shapes are unchanged. Two kinds of
// integer stay plain `i64`: per-tenant display numbers (`seq`) of uuid-keyed records (numbers
// shown to people, not the record's identity), and references to things the server keeps no
// table of and stores as sent (tax, account, brand, product group, PBX extension ids).
int_id!(
    /// A branch or a store (warehouse) of a branch: one table of places.
    PlaceId,
    CategoryId,
    UnitId,
    /// A purchase order, a sale or a sales return.
    DocId,
    /// One line of a document.
    DocLineId,
    /// A staff member's user account.
    StaffId,
    WebformId,
    /// A stored definition (NextX automations, SMS and e-mail campaigns).
    DefinitionId,
    /// A row of a list (what `member/delete` takes).
    MemberId,
    TicketTypeId,
);
