//! Key generation rate of the pki library, per algorithm (not a test: prints figures).
//! Run through scripts/bench.sh, which puts openssl's figures next to these.

use std::time::{Duration, Instant};
use zerotrust::pki::{EcdsaCurve, KeyAlgorithm, generate_key};

fn rate(alg: KeyAlgorithm, budget: Duration, max: u32) -> (u32, Duration) {
    let start = Instant::now();
    let mut n = 0;
    while n < max && start.elapsed() < budget {
        if generate_key(alg).is_err() {
            eprintln!("key generation failed for {alg}");
            std::process::exit(1);
        }
        n += 1;
    }
    (n, start.elapsed())
}

fn main() {
    let cases = [
        ("RSA-2048", KeyAlgorithm::Rsa { bits: 2048 }, 200),
        ("P256", KeyAlgorithm::Ecdsa(EcdsaCurve::P256), 5000),
        ("Ed25519", KeyAlgorithm::Ed25519, 5000),
    ];
    // scripts/bench.sh --smoke shortens the budget so the suite can run this without timing it.
    let budget = std::env::var("ZT_KEYGEN_BUDGET_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(Duration::from_secs(5), Duration::from_millis);
    for (name, alg, max) in cases {
        let (n, took) = rate(alg, budget, max);
        println!(
            "zerotrust {name:<9} {:>9.1} keys/s  ({n} keys in {:.2}s, all output forms)",
            f64::from(n) / took.as_secs_f64(),
            took.as_secs_f64()
        );
    }
}
