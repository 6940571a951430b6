use std::cell::RefCell;
use std::rc::Rc;

use super::*;

/// Node 0 sends 0, 1, 2 to node 1 at start and sets a 5 ms timer; node 1 outputs what it gets.
#[derive(Default)]
struct Probe {
    seen: Vec<(Duration, u32)>,
}

impl Node for Probe {
    type Message = u32;
    type Input = u32;
    type Output = u32;

    fn handle_start(&mut self, cx: &mut Context<'_, Self>) {
        if cx.id() == NodeId(0) {
            for i in 0..3 {
                cx.send(NodeId(1), i);
            }
            cx.set_timer(ms(5), 7);
        }
    }

    fn handle_message(&mut self, cx: &mut Context<'_, Self>, _: NodeId, message: u32) {
        self.seen.push((cx.monotonic(), message));
        cx.output(message);
    }

    fn handle_timer(&mut self, cx: &mut Context<'_, Self>, token: u64) {
        cx.output(1000 + token as u32);
    }

    fn handle_input(&mut self, cx: &mut Context<'_, Self>, input: u32) {
        cx.send(NodeId(1), input);
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Every output, with its time and node, collected by an invariant.
fn outputs(sim: &mut Sim<Probe>) -> Rc<RefCell<Vec<(Duration, NodeId, u32)>>> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&log);
    sim.invariant("collect", move |check| {
        let at = check.now();
        sink.borrow_mut()
            .extend(check.outputs().iter().map(|&(node, out)| (at, node, out)));
        Ok(())
    });
    log
}

#[test]
fn ties_run_in_the_order_they_were_scheduled() {
    let mut sim = Sim::new(Config::new(1, 2), |_| Probe::default());
    let log = outputs(&mut sim);
    sim.run_until(ms(100)).unwrap();
    let expected = [
        (ms(1), NodeId(1), 0),
        (ms(1), NodeId(1), 1),
        (ms(1), NodeId(1), 2),
        (ms(5), NodeId(0), 1007),
    ];
    assert_eq!(*log.borrow(), expected);
    assert_eq!(sim.now(), ms(100));
    assert_eq!(sim.stats().delivered, 3);
    assert_eq!(
        sim.stats().events,
        6,
        "two starts, three deliveries and a timer"
    );
}

#[test]
fn a_paused_node_handles_everything_late_and_in_order() {
    let mut sim = Sim::new(Config::new(1, 2), |_| Probe::default());
    sim.schedule(Duration::ZERO, Fault::Pause(NodeId(1), ms(10)));
    let log = outputs(&mut sim);
    sim.run_until(ms(100)).unwrap();
    let got: Vec<_> = log.borrow().iter().map(|&(at, _, out)| (at, out)).collect();
    assert_eq!(got, [(ms(5), 1007), (ms(10), 0), (ms(10), 1), (ms(10), 2)]);
    assert_eq!(sim.stats().pauses, 1);
}

#[test]
fn a_crash_loses_volatile_state_and_pending_timers() {
    let mut sim = Sim::new(Config::new(1, 2), |_| Probe::default());
    sim.schedule(ms(2), Fault::Crash(NodeId(1)));
    sim.schedule(ms(2), Fault::Crash(NodeId(0)));
    sim.input_at(ms(3), NodeId(0), 9);
    sim.schedule(ms(4), Fault::Restart(NodeId(0)));
    sim.run_until(ms(3)).unwrap();
    assert!(sim.node(NodeId(1)).is_none());
    sim.schedule(ms(3), Fault::Restart(NodeId(1)));
    let log = outputs(&mut sim);
    sim.run_until(ms(100)).unwrap();
    assert_eq!(sim.node(NodeId(1)).map(|node| node.seen.len()), Some(3));
    let got: Vec<_> = log.borrow().iter().map(|&(at, _, out)| (at, out)).collect();
    // Node 0's first timer died with it; its second life sends again and sets a new timer.
    assert_eq!(got, [(ms(5), 0), (ms(5), 1), (ms(5), 2), (ms(9), 1007)]);
    assert_eq!(sim.stats().dropped, 1, "the input to the crashed node");
    assert_eq!(sim.stats().crashes, 2);
    assert_eq!(sim.stats().starts, 4);
}

#[test]
fn drift_stretches_timers_by_true_time() {
    let mut config = Config::new(3, 2);
    config.clocks.max_drift_ppm = 100_000;
    let mut sim = Sim::new(config, |_| Probe::default());
    let log = outputs(&mut sim);
    sim.run_until(ms(100)).unwrap();
    let clock = *sim.clock(NodeId(0)).unwrap();
    let (at, _, _) = log
        .borrow()
        .iter()
        .copied()
        .find(|&(_, _, out)| out == 1007)
        .unwrap();
    assert_eq!(at, clock.true_delay(ms(5)));
    assert!(clock.monotonic(at) >= ms(5));
}

#[test]
fn the_first_broken_invariant_stops_the_run() {
    let mut sim = Sim::new(Config::new(77, 2), |_| Probe::default());
    sim.invariant("fine", |_| Ok(()));
    sim.invariant("no twos", |check| {
        match check.outputs().iter().any(|&(_, out)| out == 2) {
            true => Err("node 1 got a 2".into()),
            false => Ok(()),
        }
    });
    let failure = sim.run_until(ms(100)).unwrap_err();
    assert_eq!(failure.seed(), 77);
    assert_eq!(failure.invariant(), "no twos");
    assert_eq!(failure.event().kind, EventKind::Deliver);
    assert_eq!(failure.event().value, digest(&2u32));
    assert_eq!(failure.last_events().last(), Some(failure.event()));
    let report = failure.to_string();
    assert!(
        report.contains("seed 77") && report.contains("SIM_SEED=77"),
        "{report}"
    );
}

#[test]
fn max_events_catches_a_livelock() {
    let mut config = Config::new(1, 2);
    config.max_events = 4;
    let mut sim = Sim::new(config, |_| Probe::default());
    let failure = sim.run_until(ms(100)).unwrap_err();
    assert_eq!(failure.invariant(), "max_events");
    assert_eq!(sim.stats().events, 4);
}

#[test]
fn partitions_cut_messages_in_flight_and_heal() {
    let mut sim = Sim::new(Config::new(1, 2), |_| Probe::default());
    let partition = Fault::Partition {
        side_a: vec![NodeId(0)],
        side_b: vec![NodeId(1)],
        one_way: true,
        heal_after: Some(ms(20)),
    };
    sim.schedule(Duration::from_micros(500), partition);
    sim.input_at(ms(10), NodeId(0), 5);
    sim.input_at(ms(30), NodeId(0), 6);
    let log = outputs(&mut sim);
    sim.run_until(ms(100)).unwrap();
    let got: Vec<u32> = log.borrow().iter().map(|&(_, _, out)| out).collect();
    assert_eq!(got, [1007, 6]);
    assert_eq!(sim.stats().cut, 4, "three cut in flight, one cut when sent");
    assert_eq!(sim.n_partitions(), 0);
}

/// Node 1 logs each number node 0 relays to it and acknowledges it, syncing either before the
/// acknowledgement or just after it, in the same handler.
struct Acker {
    sync_first: bool,
}

impl Node for Acker {
    type Message = u8;
    type Input = u8;
    type Output = u8;

    fn handle_start(&mut self, cx: &mut Context<'_, Self>) {
        if !cx.disk().exists("log") {
            let _ = cx.disk().create("log");
        }
    }

    fn handle_message(&mut self, cx: &mut Context<'_, Self>, _: NodeId, n: u8) {
        if cx.disk().append("log", &[n]).is_err() {
            return;
        }
        if self.sync_first {
            let _ = cx.disk().sync("log");
            cx.output(n);
        } else {
            cx.output(n);
            let _ = cx.disk().sync("log");
        }
    }

    fn handle_timer(&mut self, _: &mut Context<'_, Self>, _: u64) {}

    fn handle_input(&mut self, cx: &mut Context<'_, Self>, n: u8) {
        cx.send(NodeId(1), n);
    }
}

fn run_acker(seed: u64, sync_first: bool) -> Result<SimStats, Failure> {
    let mut config = Config::new(seed, 2);
    config.nodes.crash_during = 0.2;
    config.nodes.restart_after = (Duration::from_micros(1), Duration::from_micros(1));
    let mut sim = Sim::new(config, move |_| Acker { sync_first });
    let mut acked = Vec::new();
    sim.invariant("acknowledged numbers are logged", move |check| {
        acked.extend(check.outputs().iter().map(|&(_, n)| n));
        let log = check
            .disk(NodeId(1))
            .and_then(|disk| disk.read_all("log").ok());
        let log = log.unwrap_or_default();
        match acked.iter().find(|n| !log.contains(n)) {
            Some(n) => Err(format!("{n} acknowledged but not logged")),
            None => Ok(()),
        }
    });
    for n in 0..200 {
        sim.input_at(ms(u64::from(n)), NodeId(0), n);
    }
    sim.run_until(ms(1_000))?;
    Ok(sim.stats())
}

#[test]
fn a_crash_inside_a_handler_catches_an_ack_before_sync() {
    let mut n_interrupted = 0;
    for seed in 0..20 {
        let stats = run_acker(seed, true).unwrap_or_else(|failure| panic!("{failure}"));
        n_interrupted += stats.interrupted;
        assert_eq!(stats.crashes, stats.interrupted);
    }
    assert!(n_interrupted > 100, "{n_interrupted} handlers cut short");
    let caught = (0..20).find_map(|seed| run_acker(seed, false).err());
    let failure = caught.expect("acknowledging before the sync loses a number");
    assert!(failure.message().contains("acknowledged but not logged"));
}

#[test]
fn faults_and_inputs_for_missing_nodes_are_void() {
    let mut sim = Sim::new(Config::new(1, 2), |_| Probe::default());
    for fault in [
        Fault::Crash(NodeId(9)),
        Fault::Restart(NodeId(9)),
        Fault::Pause(NodeId(9), ms(1)),
        Fault::ClockStep(NodeId(9), 5),
    ] {
        sim.schedule(ms(1), fault);
    }
    sim.input_at(ms(1), NodeId(9), 3);
    sim.run_until(ms(100)).unwrap();
    assert_eq!(
        sim.stats().crashes + sim.stats().pauses + sim.stats().clock_steps,
        0
    );
    assert_eq!(sim.stats().inputs, 0);
}
