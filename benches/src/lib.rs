//! Criterion benches for the tenfold cores. The benches live in `benches/`; run them with
//! `cargo bench -p tenfold-benches`, and with `--features peers` to put the peer crates that
//! do the same job beside each core, on the same input and in the same group.
