use super::*;

#[test]
fn records_round_trip_and_scan_stops_at_damage() {
    let mut log = Vec::new();
    log.extend_from_slice(&record(1, 10));
    log.extend_from_slice(&record(3, 30));
    log.extend_from_slice(&record(2, 20));
    assert_eq!(scan(&log), (72, 3, 30));
    log.extend_from_slice(&record(4, 40)[..10]);
    assert_eq!(
        scan(&log),
        (72, 3, 30),
        "a torn record is not part of the log"
    );
    log[30] ^= 1;
    assert_eq!(scan(&log), (24, 1, 10));
    assert_eq!(scan(&[0; 48]), (0, 0, 0), "a zeroed tail is not a record");
}

#[test]
fn a_perfect_world_acknowledges_everything() {
    let workload = Workload::random(1, 3, 50);
    let outcome = workload.run(Config::new(1, 3), Mode::Quorum).unwrap();
    assert_eq!(outcome.acked, 50);
    assert_eq!(outcome.reads, 50);
    let naive = workload.run(Config::new(1, 3), Mode::Naive).unwrap();
    assert_eq!(naive.acked, 50);
}

#[test]
fn naive_acknowledges_before_anyone_syncs() {
    let mut config = Config::new(5, 3);
    config.disk.sync_fail = 0.0;
    let mut workload = Workload::new();
    workload.write(Duration::ZERO, NodeId(0), 7);
    workload.read(Duration::from_millis(10), NodeId(1));
    let outcome = workload.run(config, Mode::Naive).unwrap();
    assert_eq!(outcome.disk.syncs, 3, "only the recovery syncs at start");
    assert_eq!(outcome.acked, 1);
}
