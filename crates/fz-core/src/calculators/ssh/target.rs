//! The body of an `ssh://` URI: `[user[:password]@]host[:port]/command`.
//!
//! This module owns splitting that text into the login target (user,
//! password, host, port) and the remote command, percent-decoding the
//! parts of the login, and showing a target without its password. It does
//! not connect anywhere nor read the environment.
//!
//! Grammar (upstream's, spec §5.1, extended): the login part ends at the
//! first `/`; the command is the rest (a command starting with `/` is
//! written `ssh://host//usr/bin/run`). The user info ends at the **last**
//! `@` of the login part and the password starts after the first `:` of
//! the user info. The host is a name, an IPv4 address or a bracketed IPv6
//! literal (`[::1]`), optionally followed by `:port`. User, password and
//! host are percent-decoded, so a password may contain `@`, `/`, `:` or
//! `?` written `%40`, `%2F`, `%3A`, `%3F`.

use crate::calculators::uri::percent_decode;
use crate::{Error, Result};
use std::fmt;

/// A password from a URI. Its `Debug` form is `***`, so it cannot leak
/// through a debug print of a target.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Password(String);

impl Password {
    /// The password itself, for handing to ssh through its environment.
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where to log in: what OpenSSH needs besides its own configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SshTarget {
    /// The login name, when given (else `SSH_USER`, else ssh's own choice:
    /// `~/.ssh/config`, then the local user name).
    pub user: Option<String>,
    /// The password, when given in the URI.
    pub password: Option<Password>,
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// The port, when given (else ssh's choice, normally 22).
    pub port: Option<u16>,
}

impl SshTarget {
    /// `user@host:port` without the password (IPv6 hosts in brackets),
    /// for messages and tables.
    pub fn display(&self) -> String {
        let mut s = String::new();
        if let Some(user) = &self.user {
            s.push_str(user);
            if self.password.is_some() {
                s.push_str(":***");
            }
            s.push('@');
        }
        if self.host.contains(':') {
            s.push_str(&format!("[{}]", self.host));
        } else {
            s.push_str(&self.host);
        }
        if let Some(port) = self.port {
            s.push_str(&format!(":{port}"));
        }
        s
    }
}

/// Splits the body of an `ssh://` URI (text after `ssh://`, query removed)
/// into the target and the command (trimmed, may be empty).
/// `default_user` fills a missing user (the caller passes `SSH_USER`).
///
/// Errors ([`Error::Value`], naming `shown`, the redacted URI): no host, a
/// port that is not a number in 1..=65535, an unclosed `[`, a bad percent
/// escape, a host starting with `-` (it would be read as an ssh option).
pub fn parse_body(
    body: &str,
    default_user: Option<&str>,
    shown: &str,
) -> Result<(SshTarget, String)> {
    let bad = |why: String| Error::Value(format!("Invalid SSH calculator URI '{shown}': {why}"));
    let (login, command) = match body.split_once('/') {
        Some((login, command)) => (login, command.trim()),
        None => (body, ""),
    };
    let (userinfo, hostport) = match login.rfind('@') {
        Some(at) => (Some(&login[..at]), &login[at + 1..]),
        None => (None, login),
    };
    let decode = |part: &str, what: &str| {
        percent_decode(part).ok_or_else(|| bad(format!("bad percent escape in the {what}")))
    };
    let (mut user, mut password) = (None, None);
    if let Some(info) = userinfo {
        let (u, p) = match info.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (info, None),
        };
        let u = decode(u, "user name")?;
        if !u.is_empty() {
            user = Some(u);
        }
        if let Some(p) = p {
            password = Some(Password(decode(p, "password")?));
        }
    }
    if user.is_none() {
        user = default_user
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_string);
    }
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return Err(bad("unclosed '[' in the host".to_string()));
        };
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| bad(format!("unexpected '{p}' after the IPv6 host")))?,
            ),
        };
        (host, port)
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let host = decode(host, "host")?;
    if host.is_empty() {
        return Err(bad("No host specified in SSH URI".to_string()));
    }
    if host.starts_with('-') || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad(format!("bad host name '{host}'")));
    }
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                return Err(bad(format!(
                    "port must be a number from 1 to 65535, got '{p}'"
                )))
            }
        },
    };
    if user.as_deref().is_some_and(|u| u.starts_with('-')) {
        return Err(bad("bad user name".to_string()));
    }
    Ok((
        SshTarget {
            user,
            password,
            host,
            port,
        },
        command.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> (SshTarget, String) {
        parse_body(body, None, "shown").unwrap()
    }

    #[test]
    fn upstream_examples() {
        let (t, c) = parse("john@server.edu/bash /home/john/run.sh");
        assert_eq!(t.user.as_deref(), Some("john"));
        assert_eq!((t.host.as_str(), t.port), ("server.edu", None));
        assert_eq!(c, "bash /home/john/run.sh");
        let (t, c) = parse("john@server.edu:2222/bash /p/s.sh");
        assert_eq!(t.port, Some(2222));
        assert_eq!(c, "bash /p/s.sh");
        let (t, c) = parse("u:secret@10.0.0.5/bash run.sh");
        assert_eq!(t.password.as_ref().map(Password::reveal), Some("secret"));
        assert_eq!(t.host, "10.0.0.5");
        assert_eq!(c, "bash run.sh");
        let (t, c) = parse("localhost/bash calc.sh");
        assert_eq!(
            (t.user, t.host.as_str(), c.as_str()),
            (None, "localhost", "bash calc.sh")
        );
        let (t, c) = parse("user@host");
        assert_eq!((t.host.as_str(), c.as_str()), ("host", ""));
        let (_, c) = parse("h//usr/bin/run x");
        assert_eq!(c, "/usr/bin/run x");
    }

    #[test]
    fn ipv6_and_percent_decoding() {
        let (t, _) = parse("[::1]:2222/x");
        assert_eq!((t.host.as_str(), t.port), ("::1", Some(2222)));
        assert_eq!(t.display(), "[::1]:2222");
        let (t, _) = parse("a%40b:p%40ss%2Fw%3Ad@[fe80::1]/x");
        assert_eq!(t.user.as_deref(), Some("a@b"));
        assert_eq!(t.password.as_ref().map(Password::reveal), Some("p@ss/w:d"));
        assert_eq!(t.display(), "a@b:***@[fe80::1]");
        // An unencoded '@' in the password: the last '@' ends the user info.
        let (t, _) = parse("u:p@ss@h/x");
        assert_eq!(t.password.as_ref().map(Password::reveal), Some("p@ss"));
        assert_eq!(t.host, "h");
    }

    #[test]
    fn default_user_fills_a_missing_one() {
        let (t, _) = parse_body("h/x", Some("envuser"), "s").unwrap();
        assert_eq!(t.user.as_deref(), Some("envuser"));
        let (t, _) = parse_body("me@h/x", Some("envuser"), "s").unwrap();
        assert_eq!(t.user.as_deref(), Some("me"));
    }

    #[test]
    fn password_never_in_debug_or_display() {
        let (t, _) = parse("u:hunter2@h:22/x");
        assert!(!format!("{t:?}").contains("hunter2"));
        assert_eq!(t.display(), "u:***@h:22");
    }

    #[test]
    fn errors_name_the_uri_and_the_fault() {
        for (body, needle) in [
            ("/bash x", "No host"),
            ("u@/x", "No host"),
            ("h:abc/x", "'abc'"),
            ("h:0/x", "'0'"),
            ("h:70000/x", "'70000'"),
            ("[::1/x", "unclosed"),
            ("[::1]x/y", "unexpected"),
            ("-oProxyCommand=x/y", "bad host"),
            ("u%zz@h/x", "percent"),
        ] {
            let e = parse_body(body, None, "ssh://shown")
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("ssh://shown") && e.contains(needle),
                "{body}: {e}"
            );
        }
    }
}
