//! `cargo bench -p crm-server --bench load -- [--database postgres://…] [--customers N]`:
//! the benchmark harness of `crm-bench`, run against this package's `crm` binary.

fn main() -> anyhow::Result<()> {
    crm_bench::main_with(env!("CARGO_BIN_EXE_crm"))
}
