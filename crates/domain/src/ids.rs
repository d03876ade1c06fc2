//! Newtype ids: a customer id can never be passed where a lead id is expected.

use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
