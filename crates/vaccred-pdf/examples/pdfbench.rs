//! Certificate PDFs per second. Renders distinct certificates (every one with its own
//! name, ids, batch, dates and QR code) on a shared [`Renderer`], first from one thread
//! and then from several. Prints the rate, the time per step and the peak RSS.
//!
//! Usage: `cargo run --release -p vaccred-pdf --example pdfbench -- [COUNT] [THREADS]`
//! (defaults: 2000 PDFs, threads = available cores). With `PDFBENCH_SAMPLE=FILE` set, the
//! first PDF is also written to FILE; `PDFBENCH_TEMPLATES=DIR` renders with the templates
//! of DIR.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use vaccred_pdf::{Certificate, RenderProfile, Renderer, RendererConfig};

/// Names in the scripts the bundled fonts cover, used in turn.
const NAMES: &[&str] = &[
    "Shanice Brown",
    "José Ñúñez Dvořák",
    "Анна Иванова",
    "अनन्या शर्मा",
    "فاطمة الزهراء",
    "王小明",
];

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let count: usize = args
        .next()
        .map_or(2000, |arg| arg.parse().expect("COUNT is a number"));
    let threads: usize = args.next().map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        |arg| arg.parse().expect("THREADS is a number"),
    );

    let started = Instant::now();
    let renderer = Renderer::new(&RendererConfig {
        issuer_name: "Ministry of Health and Wellness, Jamaica".into(),
        footer: "Verify this certificate by scanning the QR code.".into(),
        templates_dir: std::env::var_os("PDFBENCH_TEMPLATES").map(Into::into),
        ..RendererConfig::default()
    })
    .expect("bundled templates and fonts load");
    println!(
        "renderer setup: {:.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    );

    let certificates: Vec<Certificate> = (0..count).map(certificate).collect();
    // Warm-up: the first render lays out every template part once.
    let first = renderer.render(&certificates[0], "en").expect("render");
    if let Some(path) = std::env::var_os("PDFBENCH_SAMPLE") {
        std::fs::write(&path, &first).expect("write the sample PDF");
    }

    let (elapsed, profile, bytes) = run(&renderer, &certificates, 1);
    report("1 thread", count, elapsed, &profile, bytes);
    let (elapsed, profile, bytes) = run(&renderer, &certificates, threads);
    report(
        &format!("{threads} threads"),
        count,
        elapsed,
        &profile,
        bytes,
    );
    println!("peak RSS: {} MiB", peak_rss_kib() / 1024);
}

/// Renders all certificates split over `threads` threads; returns the wall time, the
/// summed step times and the summed PDF size.
fn run(
    renderer: &Renderer,
    certificates: &[Certificate],
    threads: usize,
) -> (Duration, RenderProfile, usize) {
    // The renders run on a rayon pool of `threads` threads, as in the server: the PDF
    // writer hands work to the current rayon pool, so it runs on these threads too.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    let started = Instant::now();
    let chunk = certificates.len().div_ceil(threads);
    // One chunk per thread, by broadcast: a job that other threads could steal might
    // instead run nested inside a render that waits on the PDF writer's work.
    let results: Vec<(RenderProfile, usize)> = pool.broadcast(|context| {
        let mut total = RenderProfile::default();
        let mut bytes = 0;
        for certificate in certificates
            .chunks(chunk)
            .nth(context.index())
            .unwrap_or(&[])
        {
            let (pdf, profile) = renderer.render_profiled(certificate, "en").expect("render");
            total.prepare += profile.prepare;
            total.compile += profile.compile;
            total.export += profile.export;
            bytes += pdf.len();
        }
        (total, bytes)
    });
    let elapsed = started.elapsed();
    let mut total = RenderProfile::default();
    let mut bytes = 0;
    for (profile, size) in results {
        total.prepare += profile.prepare;
        total.compile += profile.compile;
        total.export += profile.export;
        bytes += size;
    }
    (elapsed, total, bytes)
}

fn report(label: &str, count: usize, elapsed: Duration, profile: &RenderProfile, bytes: usize) {
    let per = |duration: Duration| duration.as_secs_f64() * 1e3 / count as f64;
    println!(
        "{label}: {count} PDFs in {:.2} s = {:.0} PDFs/s; per PDF: prepare {:.2} ms, \
         compile {:.2} ms, export {:.2} ms; mean size {} bytes",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64(),
        per(profile.prepare),
        per(profile.compile),
        per(profile.export),
        bytes / count,
    );
}

/// Builds certificate `i`: a dose-2 credential of a distinct beneficiary with one earlier
/// dose, and a proof of realistic length (rendering does not verify it).
fn certificate(i: usize) -> Certificate {
    let day = 1 + i % 28;
    let mut credential: Value =
        serde_json::from_str(include_str!("../tests/fixtures/jamaica-v3-dose2.json"))
            .expect("fixture");
    credential["credentialSubject"]["name"] = json!(format!("{} {i}", NAMES[i % NAMES.len()]));
    credential["credentialSubject"]["refId"] = json!(format!("JM-PEC-{i:06}"));
    credential["credentialSubject"]["dob"] = json!(format!("19{:02}-03-{day:02}", 40 + i % 60));
    credential["evidence"][0]["certificateId"] = json!(format!("{}", 700_000_000 + i));
    credential["evidence"][0]["batch"] = json!(format!("FE{:04}", i % 10_000));
    credential["evidence"][0]["date"] = json!(format!("2021-07-{day:02}T10:00:00.000-05:00"));
    credential["proof"] = json!({
        "type": "Ed25519Signature2018",
        "created": "2021-07-01T10:00:00Z",
        "verificationMethod": "did:jm:moh#key-1",
        "proofPurpose": "assertionMethod",
        "jws": format!("eyJhbGciOiJFZERTQSIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19..{}", "A".repeat(86)),
    });
    let mut earlier: Value =
        serde_json::from_str(include_str!("../tests/fixtures/jamaica-v3-dose1.json"))
            .expect("fixture");
    earlier["evidence"][0]["batch"] = json!(format!("EW{:04}", i % 10_000));
    Certificate::from_signed(&credential.to_string(), &[earlier.to_string()]).expect("certificate")
}

/// Returns the process's peak resident set size (VmHWM) in KiB, or 0 off Linux.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
