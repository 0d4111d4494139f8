//! The command line: `doctor [--edge URL] [--token TOKEN | --token - |
//! --email ADDRESS [--password PASSWORD]]`. The password may also come from
//! `DOCTOR_PASSWORD`, and `--token -` reads the token from stdin, so neither
//! needs to show in a process list.

pub const USAGE: &str = "usage: doctor [--edge URL] [--token TOKEN | --token - | --email ADDRESS [--password PASSWORD]]
  --edge URL          the edge's base URL (default: http:// + EDGE_LISTEN_ADDR, 0.0.0.0 as 127.0.0.1)
  --token TOKEN       check this JWT too ('-' reads it from stdin)
  --email ADDRESS     sign in to Better Auth as this user and check their JWT
  --password PASSWORD the password for --email (default: DOCTOR_PASSWORD)
Settings are read as the services read them: the environment, and CONFIG_FILE.";

/// What the command line asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Args {
    pub edge: Option<String>,
    pub token: Option<TokenFrom>,
}

/// Where the token to check comes from.
#[derive(Debug, PartialEq, Eq)]
pub enum TokenFrom {
    Given(String),
    Stdin,
    SignIn { email: String, password: String },
}

/// Parses the arguments (without the program name); `password_env` is
/// `DOCTOR_PASSWORD`. `Err` carries the message for stderr.
pub fn parse(args: &[String], password_env: Option<String>) -> Result<Args, String> {
    let mut edge = None;
    let mut token = None;
    let mut email = None;
    let mut password = None;
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let mut value = || {
            rest.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--edge" => edge = Some(value()?.trim_end_matches('/').to_owned()),
            "--token" => token = Some(value()?),
            "--email" => email = Some(value()?),
            "--password" => password = Some(value()?),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let token = match (token, email, password.or(password_env)) {
        (Some(_), Some(_), _) => return Err(format!("give --token or --email, not both\n{USAGE}")),
        (Some(token), None, _) if token == "-" => Some(TokenFrom::Stdin),
        (Some(token), None, _) => Some(TokenFrom::Given(token.trim().to_owned())),
        (None, Some(email), Some(password)) => Some(TokenFrom::SignIn { email, password }),
        (None, Some(_), None) => {
            return Err(format!(
                "--email needs --password (or DOCTOR_PASSWORD)\n{USAGE}"
            ));
        }
        (None, None, _) => None,
    };
    Ok(Args { edge, token })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn no_arguments_check_the_setup_without_a_token() {
        assert_eq!(parse(&[], None), Ok(Args::default()));
    }

    #[test]
    fn a_token_comes_from_the_line_or_stdin() {
        let parsed = parse(&args(&["--token", "a.b.c", "--edge", "http://e:1/"]), None);
        assert_eq!(
            parsed,
            Ok(Args {
                edge: Some("http://e:1".to_owned()),
                token: Some(TokenFrom::Given("a.b.c".to_owned())),
            })
        );
        assert_eq!(
            parse(&args(&["--token", "-"]), None).map(|a| a.token),
            Ok(Some(TokenFrom::Stdin))
        );
    }

    #[test]
    fn signing_in_takes_the_password_from_the_line_or_the_environment() {
        let sign_in = |email: &str, password: &str| {
            Some(TokenFrom::SignIn {
                email: email.to_owned(),
                password: password.to_owned(),
            })
        };
        assert_eq!(
            parse(
                &args(&["--email", "a@b", "--password", "pw"]),
                Some("env".into())
            )
            .map(|a| a.token),
            Ok(sign_in("a@b", "pw"))
        );
        assert_eq!(
            parse(&args(&["--email", "a@b"]), Some("env".into())).map(|a| a.token),
            Ok(sign_in("a@b", "env"))
        );
        assert!(parse(&args(&["--email", "a@b"]), None).is_err());
    }

    #[test]
    fn mistakes_are_refused_with_the_usage() {
        for bad in [
            &["--token"][..],
            &["--frobnicate"],
            &["--token", "t", "--email", "e", "--password", "p"],
            &["--help"],
        ] {
            let error = parse(&args(bad), None).expect_err("refused");
            assert!(error.contains("usage: doctor"), "{error}");
        }
    }
}
