//! Duplicate-search speed: one tenant with N enrolled identities (random unit 128-d
//! vectors, as SFace's are unit vectors), searched through the server's own
//! `IdentityIndex` over an in-memory store. Prints the gallery load time and the
//! search time per session (store generation check included), on one thread.
//!
//! `cargo run --release -p candor-server --example bench_search [-- N ...]`
//! (default 1000 10000 100000). Figures only; nothing here asserts a time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use candor_core::identity_search::Gallery;
use candor_server::identity_index::{IdentityIndex, Query};
use candor_store::{SqliteStore, Store, TenantSettings};

const DIMS: usize = 128;
const MODEL: &str = "sface@bench";
const SEARCHES: usize = 200;

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000, 100_000]
    } else {
        sizes
    };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    println!("duplicate search, {DIMS}-d, one thread, {SEARCHES} searches per size");
    for n in sizes {
        let store = Arc::new(SqliteStore::open_in_memory().expect("store"));
        let mut t = TenantSettings::new("bench");
        (t.enrolment_enabled, t.duplicate_search) = (true, true);
        store.upsert_tenant(&t).expect("tenant");
        let mut matrix = Gallery::new(DIMS);
        for i in 0..n {
            let e = rng.unit();
            store
                .enrol("bench", &format!("cand-{i}"), &e, MODEL, None)
                .expect("enrol");
            matrix.push(i, &e);
        }
        let index = IdentityIndex::new(store.clone() as Arc<dyn Store>);
        let query = rng.unit();
        let q = Query {
            identity: &query,
            exclude: None,
            threshold: 0.62,
        };
        let t0 = Instant::now();
        index.search("bench", MODEL, &q).expect("first search");
        let load = t0.elapsed();
        let mut times: Vec<Duration> = (0..SEARCHES)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(index.search("bench", MODEL, &q).expect("search"));
                t.elapsed()
            })
            .collect();
        // The matrix scan alone, without the store's generation check.
        let mut scans: Vec<Duration> = (0..SEARCHES)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(matrix.search(&query, 0.62, |_| true));
                t.elapsed()
            })
            .collect();
        times.sort();
        scans.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "  {n:>7} enrolled: load from store {:.0} ms (once); search median {:.2} ms, \
             p99 {:.2} ms, max {:.2} ms (of which the matrix scan: median {:.2} ms, p99 {:.2} ms)",
            ms(load),
            ms(times[SEARCHES / 2]),
            ms(times[SEARCHES * 99 / 100]),
            ms(times[SEARCHES - 1]),
            ms(scans[SEARCHES / 2]),
            ms(scans[SEARCHES * 99 / 100]),
        );
    }
}

/// xorshift64*: reproducible vectors without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }

    fn unit(&mut self) -> Vec<f32> {
        let v: Vec<f32> = (0..DIMS).map(|_| self.next()).collect();
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.into_iter().map(|x| x / n).collect()
    }
}
