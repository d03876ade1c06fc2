//! The load benchmark's report as one printed table.

use crate::Report;

/// Prints the report as one table.
pub fn print(r: &Report) {
    println!();
    println!(
        "crm benchmark — backend {}, {} cores, {} + {} customers, {} connections, {} s per scenario",
        r.backend, r.cores, r.customers, r.second_tenant_customers, r.concurrency, r.seconds_per_scenario
    );
    println!(
        "{:<32} {:>9} {:>7} {:>9} {:>9} {:>9} {:>8}  target",
        "scenario", "req/s", "errors", "p50 ms", "p95 ms", "p99 ms", "ratio"
    );
    for l in &r.lines {
        let ratio = l
            .ratio
            .map_or(String::new(), |x| format!("{:.0}%", x * 100.0));
        let met = match l.met {
            Some(true) => " (met)",
            Some(false) => " (MISSED)",
            None => "",
        };
        println!(
            "{:<32} {:>9.0} {:>7} {:>9.2} {:>9.2} {:>9.2} {:>8}  {}{}",
            l.name,
            l.stats.per_second,
            l.stats.errors,
            l.stats.p50_ms,
            l.stats.p95_ms,
            l.stats.p99_ms,
            ratio,
            l.target,
            met
        );
        if let Some(e) = &l.stats.first_error {
            println!(
                "    first error: {}",
                e.chars().take(200).collect::<String>()
            );
        }
    }
    let bulk_ratio = r.bulk_rows_per_second / r.raw_bulk_rows_per_second.max(1e-9);
    println!(
        "{:<32} {:>9.0} rows/s vs raw {:.0} rows/s = {:.0}%  target >= 50%{}",
        format!("bulk create ({} rows)", r.bulk_rows),
        r.bulk_rows_per_second,
        r.raw_bulk_rows_per_second,
        bulk_ratio * 100.0,
        if bulk_ratio >= 0.5 {
            " (met)"
        } else {
            " (MISSED)"
        }
    );
    println!(
        "{:<32} {:>9.0} rows/s (core batch path, with search terms)",
        "initial load", r.load_rows_per_second
    );
    println!(
        "{:<32} {:>9.1} MB  target <= 100 MB{}",
        "server peak RSS",
        r.peak_rss_mb,
        if r.peak_rss_mb <= 100.0 {
            " (met)"
        } else {
            " (MISSED)"
        }
    );
    println!(
        "{:<32} {:>9.0} ms  target <= 1000 ms{}",
        "cold start to healthy",
        r.cold_start_ms,
        if r.cold_start_ms <= 1000.0 {
            " (met)"
        } else {
            " (MISSED)"
        }
    );
    println!(
        "average matches of the search queries: {}",
        r.average_matches
    );
    println!(
        "console data: {} leads, deals and orders each, loaded at {:.0} rows/s; page sizes in KB \
         (target < 200): {}",
        r.sales_rows, r.sales_rows_per_second, r.console_page_kb
    );
}
