//! `escapes-testidp`: the test IdP as a process (for the demo), and a small admin client.

use escapes_testidp::{client, faults_from_json, parse_seed, Idp, Options};
use std::net::SocketAddr;
use std::process::ExitCode;

const USAGE: &str = "usage:
  escapes-testidp serve --ca-out PATH [--port-file PATH] [--port N] [--seed HEX64] [--kid KID]
                        [--issuer-host 127.0.0.1|localhost] [--admin-port-file PATH] [--admin-port N]
                        [--fault JSON]
  escapes-testidp grant (--admin HOST:PORT | --admin-port-file PATH) [--type once|timed|always]
                        [--pending] [--json OBJECT] [--print token|id|json] [--] [ARGV...]
  escapes-testidp call  (--admin HOST:PORT | --admin-port-file PATH) METHOD PATH [JSON-BODY]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some("grant") => grant(&args[1..]),
        Some("call") => call(&args[1..]),
        _ => Err(USAGE.to_string()),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("escapes-testidp: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Splits `--name value` options (and bare flags) from positional arguments (after `--` all
/// are positional).
type Parsed<'a> = (Vec<(&'a str, &'a str)>, Vec<&'a str>);

fn parse<'a>(args: &'a [String], flags: &[&str]) -> Result<Parsed<'a>, String> {
    let mut opts = Vec::new();
    let mut pos = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--" {
            pos.extend(it.map(String::as_str));
            break;
        } else if flags.contains(&a.as_str()) {
            opts.push((a.as_str(), ""));
        } else if a.starts_with("--") {
            let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
            opts.push((a.as_str(), v.as_str()));
        } else {
            pos.push(a.as_str());
        }
    }
    Ok((opts, pos))
}

fn opt<'a>(opts: &[(&'a str, &'a str)], name: &str) -> Option<&'a str> {
    opts.iter().rev().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

fn check_known(opts: &[(&str, &str)], known: &[&str]) -> Result<(), String> {
    match opts.iter().find(|(n, _)| !known.contains(n)) {
        Some((n, _)) => Err(format!("unknown option {n}\n{USAGE}")),
        None => Ok(()),
    }
}

fn serve(args: &[String]) -> Result<(), String> {
    let (opts, pos) = parse(args, &[])?;
    check_known(
        &opts,
        &[
            "--ca-out",
            "--port-file",
            "--port",
            "--seed",
            "--kid",
            "--issuer-host",
            "--admin-port-file",
            "--admin-port",
            "--fault",
        ],
    )?;
    if !pos.is_empty() {
        return Err(USAGE.into());
    }
    let port = |name: &str| -> Result<u16, String> {
        opt(&opts, name).map_or(Ok(0), |p| p.parse().map_err(|_| format!("bad {name}")))
    };
    let mut o = Options {
        port: port("--port")?,
        seed: opt(&opts, "--seed").map(|s| parse_seed(s).ok_or("--seed must be 64 hex digits")).transpose()?,
        kid: opt(&opts, "--kid").map(str::to_string),
        ca_out: Some(opt(&opts, "--ca-out").ok_or("serve needs --ca-out PATH")?.into()),
        admin_port: Some(port("--admin-port")?),
        ..Options::default()
    };
    if let Some(h) = opt(&opts, "--issuer-host") {
        o.issuer_host = h.to_string();
    }
    let idp = Idp::start_with(o).map_err(|e| format!("start: {e}"))?;
    if let Some(f) = opt(&opts, "--fault") {
        let v = serde_json::from_str(f).map_err(|e| format!("--fault: {e}"))?;
        idp.set_faults(faults_from_json(&v).map_err(|e| format!("--fault: {e}"))?);
    }
    let admin = idp.admin_addr().unwrap();
    if let Some(p) = opt(&opts, "--admin-port-file") {
        write_file(p, &format!("{}\n", admin.port()))?;
    }
    if let Some(p) = opt(&opts, "--port-file") {
        write_file(p, &format!("{}\n", idp.port()))?;
    }
    println!("{}", idp.issuer());
    println!("admin http://{admin}");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}

fn write_file(path: &str, text: &str) -> Result<(), String> {
    let tmp = format!("{path}.tmp{}", std::process::id());
    std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, path)).map_err(|e| format!("{path}: {e}"))
}

fn admin_addr(opts: &[(&str, &str)]) -> Result<SocketAddr, String> {
    if let Some(a) = opt(opts, "--admin") {
        let a = a.trim_start_matches("http://").trim_end_matches('/');
        return a.parse().map_err(|_| format!("--admin must be HOST:PORT (an IP literal), got {a}"));
    }
    let f = opt(opts, "--admin-port-file").ok_or("need --admin HOST:PORT or --admin-port-file PATH")?;
    let p = std::fs::read_to_string(f).map_err(|e| format!("{f}: {e}"))?;
    let port: u16 = p.trim().parse().map_err(|_| format!("{f}: not a port"))?;
    Ok(SocketAddr::from(([127, 0, 0, 1], port)))
}

fn admin_call(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> Result<serde_json::Value, String> {
    let ex = client::admin(addr, method, path, body.map(str::as_bytes));
    let status = ex.status().ok_or_else(|| format!("no HTTP response from {addr}: {:?}", ex.error))?;
    let v: serde_json::Value = serde_json::from_slice(ex.body()).map_err(|e| format!("response is not JSON: {e}"))?;
    if status >= 400 {
        return Err(format!("{status}: {v}"));
    }
    Ok(v)
}

fn grant(args: &[String]) -> Result<(), String> {
    let (opts, argv) = parse(args, &["--pending"])?;
    check_known(&opts, &["--admin", "--admin-port-file", "--type", "--pending", "--json", "--print"])?;
    let addr = admin_addr(&opts)?;
    let mut body: serde_json::Value = match opt(&opts, "--json") {
        Some(j) => serde_json::from_str(j).map_err(|e| format!("--json: {e}"))?,
        None => serde_json::json!({}),
    };
    let obj = body.as_object_mut().ok_or("--json must be an object")?;
    if let Some(t) = opt(&opts, "--type") {
        obj.insert("grant_type".into(), t.into());
    }
    if opt(&opts, "--pending").is_some() {
        obj.insert("approve".into(), false.into());
    }
    if !argv.is_empty() {
        obj.insert("command".into(), argv.into());
    }
    let v = admin_call(addr, "POST", "/_test/grants", Some(&body.to_string()))?;
    match opt(&opts, "--print").unwrap_or("token") {
        "token" => println!("{}", v["token"].as_str().unwrap_or("")),
        "id" => println!("{}", v["id"].as_str().unwrap_or("")),
        "json" => println!("{v}"),
        p => return Err(format!("--print {p}: want token, id or json")),
    }
    Ok(())
}

fn call(args: &[String]) -> Result<(), String> {
    let (opts, pos) = parse(args, &[])?;
    check_known(&opts, &["--admin", "--admin-port-file"])?;
    let addr = admin_addr(&opts)?;
    let (method, path, body) = match pos.as_slice() {
        [m, p] => (*m, *p, None),
        [m, p, b] => (*m, *p, Some(*b)),
        _ => return Err(USAGE.into()),
    };
    println!("{}", admin_call(addr, method, path, body)?);
    Ok(())
}
