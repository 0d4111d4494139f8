//! A throwaway PostgreSQL server of the test's own (`initdb` + `pg_ctl` on
//! a free port, in a temporary directory), that a test may stop and start
//! again: never the shared server of `TEST_DATABASE_URL`. As root it runs
//! as the `postgres` user (`runuser`), since `initdb` refuses root.

use std::path::{Path, PathBuf};
use std::process::Command;

use auth_core::testing::unused_addr;

pub struct PgServer {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    /// Run the binaries through `runuser -u postgres` (we are root).
    as_postgres: bool,
}

/// The newest `/usr/lib/postgresql/<version>/bin` (or `PG_BIN`).
fn bin_dir() -> PathBuf {
    if let Ok(bin) = std::env::var("PG_BIN") {
        return PathBuf::from(bin);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    found.sort_by_key(|bin| {
        let version = bin.parent().and_then(Path::file_name);
        version.and_then(|v| v.to_str()?.parse::<u32>().ok())
    });
    found.pop().unwrap_or_else(|| {
        panic!(
            "no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin: \
             this fault test starts a PostgreSQL server of its own. Install the server \
             (e.g. apt-get install postgresql) or set PG_BIN to the directory that holds them."
        )
    })
}

fn run(mut command: Command) {
    let what = format!("{command:?}");
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("{what}: {error}"));
    assert!(
        output.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `id -u postgres` and `id -g postgres`.
fn postgres_ids() -> (u32, u32) {
    let id = |flag: &str| -> u32 {
        let output = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .expect("id");
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .expect("running as root, this test needs a `postgres` user to run PostgreSQL as")
    };
    (id("-u"), id("-g"))
}

impl PgServer {
    /// Creates the cluster (trust authentication, user `postgres`) and
    /// starts it.
    pub fn start() -> Self {
        let as_postgres = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| out.stdout.trim_ascii() == b"0");
        let data = std::env::temp_dir().join(format!("todo-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&data).expect("a temporary data directory");
        if as_postgres {
            let (uid, gid) = postgres_ids();
            std::os::unix::fs::chown(&data, Some(uid), Some(gid))
                .expect("chown the data directory");
        }
        let server = Self {
            bin: bin_dir(),
            data,
            port: unused_addr().port(),
            as_postgres,
        };
        let mut initdb = server.command("initdb");
        initdb.arg("-D").arg(&server.data);
        initdb.args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ]);
        run(initdb);
        server.start_again();
        server
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -F",
            self.port,
            self.data.display()
        );
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(self.data.join("log"));
        pg_ctl.args(["-w", "-t", "60", "-o", &options, "start"]);
        run(pg_ctl);
    }

    /// Stops the server at once, as a crash would (`-m immediate`: no
    /// goodbye to clients, recovery from the WAL at the next start).
    pub fn stop(&self) {
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"]);
        run(pg_ctl);
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"]);
        let _ = pg_ctl.output();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}
