//! `fz report --html` through the real binary, and the page opened by a
//! real headless Chromium (Debian's `chromium`, installed by `.ci/install`):
//! the screenshot must show the plots, and the page must make no network
//! request. Under CI=true a missing Chromium fails the test.

mod common;
use common::{perfectgas, Sandbox};
use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const GRID: &str = r#"{"T_celsius": [0, 20, 40, 60, 80], "V_L": [1, 2.5, 5], "n_mol": 1}"#;

/// Runs the perfect-gas study with `calculator` into `results`, then
/// `fz report --html`, and returns the page's path and text.
fn study_report(sb: &Sandbox, calculator: &str) -> (PathBuf, String) {
    perfectgas(sb);
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-m", "perfectgas", "-v", GRID, "-r", "results"])
        .args(["-c", calculator])
        .env("FZ_MAX_RETRIES", "1")
        .output()
        .unwrap();
    assert!(
        sb.path().join("results/summary.json").is_file(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = sb
        .cmd("fz")
        .args(["report", "--html", "results", "-o", "page/report.html"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = sb.path().join("page/report.html");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("report: {}", page.display())
    );
    let html = std::fs::read_to_string(&page).unwrap();
    (page, html)
}

/// Nothing in the page can make the browser fetch: no `src`, no CSS
/// `url(` or `@import`, no link to a remote address.
fn assert_self_contained(html: &str) {
    for bad in ["src=", "url(", "@import", "href=\"http", "<link", "<iframe"] {
        assert!(!html.contains(bad), "page contains {bad}");
    }
}

#[test]
fn perfectgas_report_has_plots_timeline_and_linked_table() {
    let sb = Sandbox::new();
    let (_, html) = study_report(&sb, "sh://bash PerfectGazPressure.sh");
    assert_self_contained(&html);
    assert!(html.contains("done: 15"));
    assert!(html.contains("pressure vs T_celsius") && html.contains("pressure vs V_L"));
    assert!(html.contains("pressure over T_celsius × V_L"), "heat map");
    // Links are relative to the page (in page/), so absolute file URLs.
    let case = sb.path().join("results/T_celsius=20,V_L=2.5,n_mol=1");
    assert!(case.is_dir());
    assert!(html.contains("href=\"file://"), "case directories linked");
    assert!(html.contains("Failures (0)"));
    // The text report still works.
    let out = sb.cmd("fz").args(["report", "results"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("cases: 15, done: 15\n"));
    let shot = screenshot(&sb, "perfectgas");
    if let Some(png) = shot {
        let img = decode(&png);
        assert_not_blank(&img);
        // Series colours of the line plots and the heat map's yellow end.
        assert!(count_near(&img, [0, 114, 178]) > 200, "blue series drawn");
        assert!(count_near(&img, [253, 231, 37]) > 200, "heat map drawn");
        keep_screenshot(&png, "report-perfectgas.png");
    }
}

#[test]
fn failures_are_listed_with_err_tail_and_values_escaped() {
    let sb = Sandbox::new();
    let pg = sb.path().join("PerfectGazPressure.sh");
    sb.write(
        "calc.sh",
        &format!(
            "#!/bin/bash\n\
             if grep -q 'T_kelvin=313.15' \"$1\"; then echo 'simulated crash <b>' >&2; exit 3; fi\n\
             if grep -q 'T_kelvin=333.15' \"$1\"; then echo 'pressure = <script>alert(1)</script>' > output.txt; exit 0; fi\n\
             exec bash {} \"$1\"\n",
            pg.display()
        ),
    );
    let (_, html) = study_report(&sb, "sh://bash calc.sh");
    assert_self_contained(&html);
    assert!(html.contains("Failures (3)"), "the three T=40 cases");
    assert!(
        html.contains("<pre>simulated crash &lt;b&gt;</pre>"),
        "err.txt tail"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_eq!(html.matches("<script>").count(), 1, "only the table script");
    if let Some(png) = screenshot(&sb, "failures") {
        let img = decode(&png);
        assert_not_blank(&img);
        assert!(
            count_near(&img, [213, 50, 30]) > 200,
            "failed attempts drawn red"
        );
        keep_screenshot(&png, "report-failures.png");
    }
}

/// Chromium on this machine, or `None` (a failure under CI=true).
fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium is not installed (.ci/install installs the Debian package)"
        );
        eprintln!("chromium not installed: screenshot checks not run");
    }
    found
}

/// Opens `sb/page/report.html` in headless Chromium and returns the PNG.
///
/// No network: every request Chromium makes over the network goes to a
/// proxy that is a listener of this test (also for loopback addresses,
/// `<-loopback>`), which answers 502 at once and records the request's
/// host. The test fails on any host but those of Chromium's own services
/// (time, component updates, accounts: Google hosts that the browser
/// contacts by itself whatever the page, despite the flags); a page
/// loading anything would name another host (and the page's
/// Content-Security-Policy forbids loads anyway).
fn screenshot(sb: &Sandbox, name: &str) -> Option<Vec<u8>> {
    let chromium = chromium()?;
    let proxy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = proxy.local_addr().unwrap().port();
    proxy.set_nonblocking(true).unwrap();
    let hosts = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (hosts, stop) = (hosts.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match proxy.accept() {
                    Ok((s, _)) => hosts.lock().unwrap().push(proxied_host(s)),
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        })
    };
    let png = sb.path().join(format!("{name}.png"));
    let page = sb.path().join("page/report.html");
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--no-default-browser-check",
            "--disable-domain-reliability",
        ])
        .arg(format!("--proxy-server=http://127.0.0.1:{port}"))
        .arg("--proxy-bypass-list=<-loopback>")
        .arg(format!(
            "--user-data-dir={}",
            sb.path().join("chromium").display()
        ))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1200,2000")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    stop.store(true, Ordering::SeqCst);
    watcher.join().unwrap();
    assert!(
        png.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hosts = hosts.lock().unwrap().clone();
    let own = |h: &String| {
        let name = h.split(':').next().unwrap_or("");
        ["google.com", "googleapis.com", "gvt1.com", "gstatic.com"]
            .iter()
            .any(|d| name == *d || name.ends_with(&format!(".{d}")))
    };
    let page_requests: Vec<&String> = hosts.iter().filter(|h| !own(h)).collect();
    assert!(
        page_requests.is_empty(),
        "network requests to {page_requests:?}"
    );
    Some(std::fs::read(png).unwrap())
}

/// The host a proxied request names (`CONNECT host:port` or an absolute
/// URL); the connection is answered 502 and closed.
fn proxied_host(mut s: std::net::TcpStream) -> String {
    let _ = s.set_nonblocking(false);
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let mut buf = [0u8; 1024];
    let n = s.read(&mut buf).unwrap_or(0);
    let _ =
        s.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let head = String::from_utf8_lossy(&buf[..n]);
    let target = head.split_whitespace().nth(1).unwrap_or("?");
    let host = target.split("://").last().unwrap_or(target);
    host.split('/').next().unwrap_or(host).to_string()
}

/// An RGB image.
struct Image {
    pixels: Vec<[u8; 3]>,
}

fn decode(png_bytes: &[u8]) -> Image {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|c| match channels {
            1 | 2 => [c[0]; 3],
            _ => [c[0], c[1], c[2]],
        })
        .collect();
    Image { pixels }
}

/// At least 2 % of the pixels are not white, in many colours.
fn assert_not_blank(img: &Image) {
    let non_white = img.pixels.iter().filter(|p| **p != [255, 255, 255]).count();
    assert!(non_white * 50 > img.pixels.len(), "blank screenshot");
    let mut colours: Vec<[u8; 3]> = img.pixels.clone();
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() > 50, "only {} colours", colours.len());
}

/// Pixels within 12 of `rgb` on every channel.
fn count_near(img: &Image, rgb: [u8; 3]) -> usize {
    img.pixels
        .iter()
        .filter(|p| (0..3).all(|k| p[k].abs_diff(rgb[k]) <= 12))
        .count()
}

/// Copies a screenshot to $FZ_SCREENSHOT_DIR when set (for the README).
fn keep_screenshot(png: &[u8], name: &str) {
    if let Some(dir) = std::env::var_os("FZ_SCREENSHOT_DIR") {
        std::fs::write(Path::new(&dir).join(name), png).unwrap();
    }
}

#[test]
fn fzr_report_writes_the_final_page_and_names_it() {
    let sb = Sandbox::new();
    perfectgas(&sb);
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-m", "perfectgas", "-v", GRID, "-r", "results"])
        .args(["-c", "sh://bash PerfectGazPressure.sh", "--report"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = sb.path().join("results/report.html");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("report: {}", page.display())),
        "{stderr}"
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("done: 15"));
    assert!(!html.contains("http-equiv=\"refresh\""), "the run is over");
}

#[test]
fn model_units_label_the_axes_and_are_kept_in_each_case() {
    let sb = Sandbox::new();
    perfectgas(&sb);
    let model = sb.read(".fz/models/perfectgas.json").replace(
        "\"output\":",
        "\"units\": {\"T_celsius\": \"°C\", \"V_L\": \"L\", \"pressure\": \"Pa\"},\n  \"output\":",
    );
    sb.write(".fz/models/perfectgas.json", &model);
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-m", "perfectgas", "-v", GRID, "-r", "results"])
        .args(["-c", "sh://bash PerfectGazPressure.sh", "--report"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info = sb.read("results/T_celsius=20,V_L=1,n_mol=1/info.txt");
    assert!(info.contains("\nunit.pressure=Pa\n"), "{info}");
    let html = sb.read("results/report.html");
    for label in ["T_celsius [°C]", "V_L [L]", "pressure [Pa]"] {
        assert!(html.contains(label), "axis label {label} missing");
    }
    // A model whose units are not strings is refused, naming the key.
    sb.write(".fz/models/perfectgas.json", &model.replace("\"Pa\"", "3"));
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-m", "perfectgas", "-v", GRID, "-r", "other"])
        .args(["-c", "sh://bash PerfectGazPressure.sh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("Model 'units' must map names to unit strings, e.g. {\"pressure\": \"Pa\"}; got int for 'pressure'"));
}
