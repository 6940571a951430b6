use std::time::Duration;

use tenfold_inventory::simulation::{self, MemoryJournal, SaleConfig};

/// A burst: a quiet minute, a steep rise to a peak and a slow decay, in 100 ms buckets.
fn burst_shape() -> Vec<u32> {
    (0..3_000u32)
        .map(|bucket| match bucket {
            0..600 => 2,
            600..700 => 2 + (bucket - 600) * 5,
            _ => 500 * 2_400 / (bucket - 600 + 2_400 - 100),
        })
        .collect()
}

#[test]
fn flash_sale_sells_exactly_the_stock_through_a_crash() {
    let config = SaleConfig::new(50_000, 1_000);
    let report = simulation::run(config, &burst_shape(), &mut MemoryJournal::default())
        .unwrap_or_else(|error| panic!("{error}"));
    eprintln!("{report:#?}");
    assert_eq!(report.buyers, 50_000);
    assert_eq!(report.sold, 1_000);
    assert_eq!(report.buyers_confirmed, 1_000);
    assert_eq!(report.oversold, 0);
    assert_eq!(report.unsold_while_demand, 0);
    assert_eq!(report.lost_confirmations, 0);
    assert_eq!(report.double_charges, 0);
    assert_eq!(report.admitted_refused, 0);
    assert_eq!(report.crashes, 1);
    assert!(report.repeat_clicks > 0 && report.expired > 0 && report.released > 0);
    assert!(report.wait_max >= report.wait_p99 && report.wait_p99 >= report.wait_p50);
    assert!(report.sold_out_at > Duration::ZERO);
}
