//! `cargo bench -p crm-server --bench soak -- [--database postgres://…] [--minutes 10]`: mixed
//! traffic of every dialect at 80 % of its measured peak, in windows (`crm_bench::soak`).

fn main() -> anyhow::Result<()> {
    crm_bench::soak::main_with(env!("CARGO_BIN_EXE_crm"))
}
