//! How fast the simulator runs: simulated events per second on one core, on a token-passing
//! workload with and without faults, and on the replicated register under swarm faults.

#![allow(missing_docs)]

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tenfold_sim::register::{Mode, Workload};
use tenfold_sim::{Config, Context, Latency, LinkConfig, NetConfig, Node, NodeId, Sim};

/// Passes tokens to random peers for 64 hops each; a timer on every node adds one token per
/// millisecond, so the number in flight holds steady, with losses or without.
struct Passer;

impl Node for Passer {
    type Message = u64;
    type Input = ();
    type Output = ();

    fn handle_start(&mut self, cx: &mut Context<'_, Self>) {
        cx.set_timer(Duration::from_millis(1), 0);
    }

    fn handle_message(&mut self, cx: &mut Context<'_, Self>, _: NodeId, hops: u64) {
        if hops >= 64 {
            return;
        }
        let n_nodes = u64::from(cx.n_nodes());
        let to = NodeId(cx.rng().below(n_nodes) as u32);
        cx.send(to, hops + 1);
    }

    fn handle_timer(&mut self, cx: &mut Context<'_, Self>, _: u64) {
        self.handle_message(cx, NodeId(0), 0);
        cx.set_timer(Duration::from_millis(1), 0);
    }

    fn handle_input(&mut self, _: &mut Context<'_, Self>, (): ()) {}
}

fn passing(config: Config) -> Sim<Passer> {
    let mut sim = Sim::new(config, |_| Passer);
    sim.run_for(Duration::from_millis(200))
        .expect("no invariants to break");
    sim
}

fn events(c: &mut Criterion) {
    const STEPS: u64 = 100_000;
    let mut group = c.benchmark_group("sim/events");
    group.throughput(Throughput::Elements(STEPS));
    let link = LinkConfig {
        latency: Latency::uniform(Duration::from_micros(200), Duration::from_millis(2)),
        loss: 0.01,
        duplicate: 0.01,
        reorder: 0.1,
        ..LinkConfig::default()
    };
    let mut faulty = Config::new(1, 8);
    faulty.net = NetConfig::uniform(link);
    faulty.nodes.crash = 1e-5;
    faulty.nodes.restart_after = (Duration::from_millis(1), Duration::from_millis(10));
    for (name, config) in [("perfect", Config::new(1, 8)), ("faulty", faulty)] {
        let mut sim = passing(config);
        group.bench_function(BenchmarkId::new("token_passing", name), |b| {
            b.iter(|| {
                for _ in 0..STEPS {
                    let _ = sim.step();
                }
            });
        });
    }
    group.finish();
}

fn register(c: &mut Criterion) {
    let mut group = c.benchmark_group("sim/register");
    let workload = Workload::random(3, 3, 100);
    let config = Workload::config(3, 3);
    let outcome = workload
        .run(config.clone(), Mode::Quorum)
        .expect("the correct register holds");
    group.throughput(Throughput::Elements(outcome.stats.events));
    group.bench_function("quorum_swarm_seed_3", |b| {
        b.iter(|| workload.run(config.clone(), Mode::Quorum));
    });
    group.finish();
}

criterion_group!(benches, events, register);
criterion_main!(benches);
