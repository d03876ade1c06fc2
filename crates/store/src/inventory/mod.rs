//! Storage of branches and stores (`places`), product categories, documents (`docs`,
//! `doc_lines`) and the stock ledger (`stock_moves`).

mod docs;
mod places;
mod staff;

#[derive(Debug, sqlx::FromRow)]
struct SeqRow {
    seq: i64,
}
