use super::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn rate(period_ms: u64, burst: u32) -> Rate {
    Rate::every(ms(period_ms))
        .expect("a non-zero period")
        .burst(burst)
}

fn ticket(join: Join) -> Ticket {
    match join {
        Join::Queued { ticket, .. } => ticket,
        other => panic!("expected a ticket, got {other:?}"),
    }
}

#[test]
fn gcra_allows_the_burst_then_the_steady_rate() {
    let mut gcra = Gcra::new(Rate::per_second(10).expect("non-zero").burst(3));
    for _ in 0..3 {
        assert_eq!(gcra.check(ms(1_000)), Ok(()));
    }
    assert_eq!(gcra.check(ms(1_000)), Err(ms(1_100)));
    // A refused request changes nothing: the same answer again.
    assert_eq!(gcra.check(ms(1_050)), Err(ms(1_100)));
    assert_eq!(gcra.check(ms(1_100)), Ok(()));
    assert_eq!(gcra.check(ms(1_100)), Err(ms(1_200)));
    // After a quiet spell the full burst is back, and no more.
    for _ in 0..3 {
        assert_eq!(gcra.check(ms(5_000)), Ok(()));
    }
    assert!(gcra.check(ms(5_000)).is_err());
    assert_eq!(gcra.ready_at(), ms(5_100));
    assert_eq!(Rate::per_second(0), None);
    assert_eq!(Rate::every(Duration::ZERO), None);
}

#[test]
fn the_queue_closes_when_tickets_cover_the_stock_and_reopens_on_give_back() {
    let config = AdmissionConfig::new(rate(1_000, 1), rate(10, 1));
    let mut admission = Admission::new(config, 3);
    let first = ticket(admission.join(UserId(1), 2, ms(0)));
    let second = ticket(admission.join(UserId(2), 1, ms(0)));
    assert_eq!((first.number, second.number), (0, 1));
    assert!(admission.is_closed());
    assert_eq!(admission.join(UserId(3), 1, ms(0)), Join::SoldOut);
    admission.give_back(1);
    let third = admission.join(UserId(3), 1, ms(1_000));
    assert_eq!(
        third,
        Join::Queued {
            ticket: ticket(third),
            ahead: 2
        }
    );
    assert_eq!(admission.join(UserId(4), 1, ms(1_000)), Join::SoldOut);
    assert_eq!(admission.join(UserId(4), 0, ms(3_000)), Join::SoldOut);
    let stats = admission.stats();
    assert_eq!((stats.issued, stats.sold_out), (3, 3));
}

#[test]
fn repeat_clicks_are_throttled_or_get_the_same_ticket() {
    let config = AdmissionConfig::new(rate(1_000, 1), rate(10, 1));
    let mut admission = Admission::new(config, 10);
    let first = admission.join(UserId(1), 1, ms(0));
    assert_eq!(
        admission.join(UserId(1), 1, ms(10)),
        Join::Throttled {
            retry_at: ms(1_000)
        }
    );
    assert_eq!(admission.join(UserId(1), 1, ms(1_000)), first);
    assert_eq!(admission.unpromised(), 9);
    let stats = admission.stats();
    assert_eq!((stats.issued, stats.throttled, stats.repeats), (1, 1, 1));
}

#[test]
fn tickets_are_admitted_in_order_at_the_checkout_rate() {
    let config = AdmissionConfig::new(rate(1_000, 1), rate(10, 2));
    let mut admission = Admission::new(config, 10);
    for user in 0..5 {
        ticket(admission.join(UserId(user), 1, ms(0)));
    }
    assert!(admission.leave(UserId(1)));
    assert!(!admission.leave(UserId(1)));
    assert_eq!(admission.unpromised(), 6);
    let mut admitted = Vec::new();
    let mut now = ms(0);
    while admitted.len() < 4 {
        while let Some(ticket) = admission.poll_admit(now) {
            admitted.push((ticket.user.0, now));
        }
        let Some(next) = admission.poll_timeout() else {
            break;
        };
        now = next.max(now + ms(1));
    }
    // The burst of two passes at once; then one every 10 ms. User 1 left.
    assert_eq!(admitted, [(0, ms(0)), (2, ms(0)), (3, ms(10)), (4, ms(20))]);
    assert_eq!(admission.poll_timeout(), None);
    assert_eq!(admission.waiting(), 0);
    assert_eq!(admission.stats().admitted, 4);
}

#[test]
fn pruning_forgets_only_users_whose_limit_has_passed() {
    let config = AdmissionConfig::new(rate(1_000, 1), rate(10, 1));
    let mut admission = Admission::new(config, 0);
    for user in 0..4 {
        admission.join(UserId(user), 1, ms(user * 500));
    }
    // Their next tries conform from 1.0, 1.5, 2.0 and 2.5 s on.
    admission.prune(ms(2_000), 100);
    assert_eq!(admission.arrivals.len(), 1);
    let retry_at = ms(2_500);
    assert_eq!(
        admission.join(UserId(3), 1, ms(2_000)),
        Join::Throttled { retry_at }
    );
    assert_eq!(admission.join(UserId(2), 1, ms(2_000)), Join::SoldOut);
    admission.prune(ms(10_000), 1);
    assert_eq!(admission.arrivals.len(), 1);
    admission.prune(ms(10_000), 1);
    assert!(admission.arrivals.is_empty());
}
