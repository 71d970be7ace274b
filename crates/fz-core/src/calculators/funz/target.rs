//! What a `funz://` URI says (spec §7.1): `funz://[host]:<udp port>/<code>`.
//!
//! This module owns the grammar of the URI body only: the optional host
//! the daemons must be reached at, the UDP port they announce themselves
//! on (not a TCP port) and the code name. It opens no socket.

use crate::calculators::uri::CalculatorUri;
use crate::{Error, Result};

/// A parsed `funz://` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunzTarget {
    /// The host written in the URI; `None` (`funz://:5555/…`) means "the
    /// address each daemon's datagram comes from".
    pub host: Option<String>,
    /// The UDP port the daemons send their announcements to.
    pub udp_port: u16,
    /// The code to run (one of the codes a daemon announces); empty in a
    /// bare alias URI (`funz://:5555`) whose models give the code.
    pub code: String,
}

impl FunzTarget {
    /// Parses the body of a `funz://` URI. `need_code`: a missing code is
    /// an error (it is not in an alias URI whose models name the codes).
    ///
    /// Errors ([`Error::Value`], naming the URI): no `:port`, a port that
    /// is not 1..65535, no code, a code with whitespace, any query key
    /// other than `timeout`.
    pub fn parse(uri: &CalculatorUri, need_code: bool) -> Result<Self> {
        let shown = &uri.display;
        let bad = |why: &str| Error::Value(format!("Invalid Funz calculator URI '{shown}': {why}"));
        if let Some(key) = uri.params.keys().next() {
            return Err(bad(&format!(
                "query parameter '{key}' is not supported (only 'timeout')"
            )));
        }
        let body = uri.body.trim();
        let (conn, code) = body.split_once('/').unwrap_or((body, ""));
        let code = code.trim_end_matches('/');
        let Some((host, port)) = conn.rsplit_once(':') else {
            return Err(bad(
                "the UDP port is required (funz://[host]:<udp port>/<code>)",
            ));
        };
        let udp_port = port
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| bad(&format!("bad UDP port '{port}' (1 to 65535)")))?;
        if code.is_empty() && need_code {
            return Err(bad(
                "the code is required (funz://[host]:<udp port>/<code>, e.g. funz://:5555/bash)",
            ));
        }
        if code.chars().any(|c| c.is_whitespace() || c == '/') {
            return Err(bad(&format!(
                "bad code '{code}' (a code name announced by the daemons, without spaces or '/')"
            )));
        }
        let host = host.trim_start_matches('[').trim_end_matches(']');
        Ok(FunzTarget {
            host: (!host.is_empty()).then(|| host.to_string()),
            udp_port,
            code: code.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(uri: &str) -> Result<FunzTarget> {
        FunzTarget::parse(&CalculatorUri::parse(uri)?, true)
    }

    #[test]
    fn grammar() {
        let t = parse("funz://:5555/bash").unwrap();
        assert_eq!((t.host, t.udp_port, t.code.as_str()), (None, 5555, "bash"));
        let t = parse("funz://server.example.com:19001/Python").unwrap();
        assert_eq!(t.host.as_deref(), Some("server.example.com"));
        assert_eq!((t.udp_port, t.code.as_str()), (19001, "Python"));
        let t = parse("funz://[::1]:7/R?timeout=3").unwrap();
        assert_eq!((t.host.as_deref(), t.udp_port), (Some("::1"), 7));
        let bare = FunzTarget::parse(&CalculatorUri::parse("funz://:5555").unwrap(), false);
        assert_eq!(bare.unwrap().code, "");
    }

    #[test]
    fn errors_name_the_uri_and_the_fault() {
        for (uri, needle) in [
            ("funz://localhost/bash", "UDP port is required"),
            ("funz://:0/bash", "bad UDP port '0'"),
            ("funz://:99999/bash", "bad UDP port '99999'"),
            ("funz://:abc/bash", "bad UDP port 'abc'"),
            ("funz://:5555", "code is required"),
            ("funz://:5555/", "code is required"),
            ("funz://:5555/a b", "bad code 'a b'"),
            ("funz://:5555/a/b", "bad code 'a/b'"),
            ("funz://:5555/bash?keep=1", "'keep' is not supported"),
        ] {
            let e = parse(uri).unwrap_err().to_string();
            assert!(e.contains(needle) && e.contains("funz://"), "{uri}: {e}");
        }
    }
}
