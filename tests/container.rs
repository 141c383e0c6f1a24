//! The container image without a Docker engine: the binary started the way the Dockerfile's
//! runtime stage starts it (its ENV, WORKDIR, volume, non-root USER, ENTRYPOINT/CMD and
//! HEALTHCHECK, read from the Dockerfile itself) serves and answers a signed simulated call.

mod common;

use common::free_port;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use switchboard::signature::{Algorithm, compute};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");
const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// The runtime stage of the Dockerfile, as far as running the binary is concerned.
#[derive(Debug)]
struct Image {
    env: BTreeMap<String, String>,
    workdir: String,
    volume: String,
    user: String,
    entrypoint: Vec<String>,
    cmd: Vec<String>,
    healthcheck: Vec<String>,
    copies: Vec<(String, String)>,
}

/// Logical instructions: continuation lines joined, comment lines dropped (Docker drops them
/// even inside a continuation).
fn instructions(dockerfile: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part.trim());
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                out.push(std::mem::take(&mut current).trim().to_owned());
            }
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_owned());
    }
    out
}

/// `["a", "b"]` (exec form) → `[a, b]`; the shell form is refused, since it would need a shell
/// the test does not emulate.
fn exec_form(s: &str) -> Vec<String> {
    let s = s.trim();
    assert!(s.starts_with('[') && s.ends_with(']'), "not exec form: {s}");
    s[1..s.len() - 1]
        .split(',')
        .map(|part| part.trim().trim_matches('"').to_owned())
        .filter(|part| !part.is_empty())
        .collect()
}

fn parse_image(dockerfile: &str) -> Image {
    let all = instructions(dockerfile);
    let last_from = all
        .iter()
        .rposition(|i| i.to_ascii_uppercase().starts_with("FROM "))
        .expect("Dockerfile has a FROM");
    let mut image = Image {
        env: BTreeMap::new(),
        workdir: "/".into(),
        volume: String::new(),
        user: "root".into(),
        entrypoint: Vec::new(),
        cmd: Vec::new(),
        healthcheck: Vec::new(),
        copies: Vec::new(),
    };
    for instruction in &all[last_from + 1..] {
        let (keyword, rest) = instruction
            .split_once(char::is_whitespace)
            .unwrap_or((instruction, ""));
        let rest = rest.trim();
        match keyword.to_ascii_uppercase().as_str() {
            "ENV" => {
                for pair in rest.split_whitespace() {
                    let (k, v) = pair
                        .split_once('=')
                        .unwrap_or_else(|| panic!("ENV without '=': {pair}"));
                    assert!(
                        !v.contains(['"', '\'', '$']),
                        "ENV value the test can't emulate: {pair}"
                    );
                    image.env.insert(k.to_owned(), v.to_owned());
                }
            }
            "WORKDIR" => image.workdir = rest.to_owned(),
            "VOLUME" => image.volume = rest.trim_matches(['[', ']', '"']).to_owned(),
            "USER" => image.user = rest.to_owned(),
            "ENTRYPOINT" => image.entrypoint = exec_form(rest),
            "CMD" => image.cmd = exec_form(rest),
            "HEALTHCHECK" => {
                let (_, cmd) = rest.split_once("CMD ").expect("HEALTHCHECK has a CMD");
                image.healthcheck = exec_form(cmd);
            }
            "COPY" if !rest.starts_with("--from") => {
                let parts: Vec<&str> = rest.split_whitespace().collect();
                assert_eq!(parts.len(), 2, "COPY with one source: {rest}");
                image
                    .copies
                    .push((parts[0].to_owned(), parts[1].to_owned()));
            }
            _ => {}
        }
    }
    image
}

fn image() -> Image {
    let path = Path::new(MANIFEST_DIR).join("Dockerfile");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    parse_image(&text)
}

#[test]
fn dockerfile_runtime_stage_is_what_the_test_emulates() {
    let image = image();
    assert_eq!(image.env.get("BIND").map(String::as_str), Some("0.0.0.0"));
    assert_eq!(image.env.get("PORT").map(String::as_str), Some("3000"));
    assert_eq!(
        image.env.get("TEMPLATES_DIR").map(String::as_str),
        Some("/app/templates")
    );
    assert_eq!(
        image.env.get("DATABASE_URL").map(String::as_str),
        Some("sqlite:///data/switchboard.db")
    );
    assert_eq!(
        image.env.get("SWITCHBOARD_STATE_DIR").map(String::as_str),
        Some("/data/.switchboard")
    );
    assert_eq!(image.workdir, "/app");
    assert_eq!(image.volume, "/data");
    assert_eq!(image.user, "10001", "the image must not run as root");
    assert_eq!(image.entrypoint, ["switchboard"]);
    assert_eq!(image.cmd, ["serve"]);
    assert_eq!(image.healthcheck, ["switchboard", "healthcheck"]);
    assert!(
        image
            .copies
            .contains(&("templates".to_owned(), "/app/templates".to_owned())),
        "{:?}",
        image.copies
    );
    let text = std::fs::read_to_string(Path::new(MANIFEST_DIR).join("Dockerfile")).unwrap();
    assert!(text.contains("EXPOSE 3000"));
    assert!(text.contains("cargo build --release --locked"));
    assert!(text.contains("ca-certificates"));
}

#[test]
fn dockerignore_keeps_secrets_and_state_out_of_the_context() {
    let text = std::fs::read_to_string(Path::new(MANIFEST_DIR).join(".dockerignore")).unwrap();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for pattern in ["target/", ".git/", ".env", "*.db*", ".switchboard/"] {
        assert!(lines.contains(&pattern), "missing {pattern}");
    }
}

#[test]
fn instructions_join_continuations_and_drop_comments() {
    let got = instructions("FROM a\n# c\nENV A=1 \\\n    # inside\n    B=2\nUSER 1\n");
    assert_eq!(got, ["FROM a", "ENV A=1 B=2", "USER 1"]);
}

/// The effective uid, without a libc dependency: the owner of a file this process creates.
fn running_as_root(scratch: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let probe = scratch.join(".uid-probe");
    std::fs::write(&probe, b"").unwrap();
    let root = std::fs::metadata(&probe).unwrap().uid() == 0;
    std::fs::remove_file(&probe).unwrap();
    root
}

/// A container's filesystem in a temp dir: `/app` (WORKDIR, with the templates COPY'd in),
/// `/data` (the volume) and the binary, with image paths mapped onto it.
struct Rootfs {
    dir: tempfile::TempDir,
}

impl Rootfs {
    fn path(&self, image_path: &str) -> PathBuf {
        self.dir.path().join(image_path.trim_start_matches('/'))
    }

    /// An ENV value with every image path (`/app...`, `/data...`) moved under the temp dir.
    fn map(&self, value: &str) -> String {
        for prefix in ["/app", "/data"] {
            for (scheme, rest) in [
                ("sqlite://", value.strip_prefix("sqlite://")),
                ("", Some(value)),
            ] {
                if let Some(rest) = rest
                    && (rest == prefix || rest.starts_with(&format!("{prefix}/")))
                {
                    return format!("{scheme}{}", self.path(rest).display());
                }
            }
        }
        value.to_owned()
    }
}

struct Container {
    image: Image,
    rootfs: Rootfs,
    port: u16,
    /// Some((uid, gid)) when the test runs as root and so can drop to the image's USER.
    user: Option<(u32, u32)>,
    bin: PathBuf,
}

impl Container {
    fn new() -> Container {
        let image = image();
        let rootfs = Rootfs {
            dir: tempfile::tempdir().unwrap(),
        };
        let root = running_as_root(rootfs.dir.path());
        let uid: u32 = image.user.parse().expect("USER is a numeric uid");
        let user = root.then_some((uid, uid));

        for (src, dst) in &image.copies {
            copy_dir(&Path::new(MANIFEST_DIR).join(src), &rootfs.path(dst));
        }
        std::fs::create_dir_all(rootfs.path(&image.workdir)).unwrap();
        let data = rootfs.path(&image.volume);
        std::fs::create_dir_all(&data).unwrap();

        // The binary sits in the temp dir so an unprivileged uid can run it even when the
        // checkout lives somewhere only root can enter.
        let bin = rootfs.path("/usr/local/bin/switchboard");
        std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
        if std::fs::hard_link(BIN, &bin).is_err() {
            std::fs::copy(BIN, &bin).unwrap();
        }

        if user.is_some() {
            use std::os::unix::fs::PermissionsExt;
            // tempdir() is 0700 for root; the image's user must reach /app and /data below it.
            std::fs::set_permissions(rootfs.dir.path(), std::fs::Permissions::from_mode(0o755))
                .unwrap();
            // As the Dockerfile does: /data belongs to the image's user, nothing else does.
            std::os::unix::fs::chown(&data, Some(uid), Some(uid)).unwrap();
        }
        Container {
            image,
            rootfs,
            port: free_port(),
            user,
            bin,
        }
    }

    /// `docker exec`/`docker run` of `argv` (argv[0] is the binary name, as in the image).
    fn command(&self, argv: &[String]) -> Command {
        assert_eq!(argv.first().map(String::as_str), Some("switchboard"));
        let mut cmd = Command::new(&self.bin);
        cmd.args(&argv[1..])
            .env_clear()
            .current_dir(self.rootfs.path(&self.image.workdir));
        for (k, v) in &self.image.env {
            cmd.env(k, self.rootfs.map(v));
        }
        cmd.env("PORT", self.port.to_string())
            .env("TWILIO_AUTH_TOKEN", TOKEN)
            .env("SWITCHBOARD_CLOCK", common::OPEN_HOURS)
            .env("RUST_LOG", "warn");
        if let Some((uid, gid)) = self.user {
            use std::os::unix::process::CommandExt;
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    fn start(&self) -> Running {
        let argv: Vec<String> = self
            .image
            .entrypoint
            .iter()
            .chain(&self.image.cmd)
            .cloned()
            .collect();
        let log = self.rootfs.dir.path().join("server.log");
        let child = self
            .command(&argv)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Running { child, log }
    }

    /// The image's HEALTHCHECK, plus `extra` arguments.
    fn healthcheck(&self, extra: &[&str]) -> std::process::Output {
        let mut argv = self.image.healthcheck.clone();
        argv.extend(extra.iter().map(|s| (*s).to_owned()));
        self.command(&argv).output().unwrap()
    }
}

struct Running {
    child: Child,
    log: PathBuf,
}

impl Running {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[tokio::test]
async fn image_environment_serves_a_call_as_a_non_root_user() {
    let container = Container::new();

    let down = container.healthcheck(&[]);
    assert!(!down.status.success(), "healthcheck passed with no server");
    assert!(
        String::from_utf8_lossy(&down.stderr).contains("cannot reach http://127.0.0.1:"),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );

    let mut server = container.start();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // Exactly the image's HEALTHCHECK: no --url, so the default built from PORT is tested.
        if container.healthcheck(&[]).status.success() {
            break;
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("server exited with {status}: {}", server.log());
        }
        assert!(
            Instant::now() < deadline,
            "healthcheck never passed: {}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let healthz = format!("http://127.0.0.1:{}/healthz", container.port);
    let explicit = container.healthcheck(&["--url", &healthz]);
    assert!(
        explicit.status.success(),
        "{}",
        String::from_utf8_lossy(&explicit.stderr)
    );

    let url = format!("http://127.0.0.1:{}/voice/incoming", container.port);
    let params = [
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("CallSid", "CA0123456789abcdef0123456789abcdef"),
        ("From", "+14155551234"),
        ("To", "+15005550006"),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
    ];
    // Twilio signs the parameters sorted by name; compute() takes them in the order given.
    let mut sorted = params;
    sorted.sort();
    let signature = compute(Algorithm::HmacSha1, TOKEN.as_bytes(), &url, &sorted);
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let response = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{text}\n{}", server.log());
    assert!(text.contains("<Gather"), "{text}");

    // The database landed on the volume, written by the image's user.
    let db = container.rootfs.path("/data/switchboard.db");
    let meta = std::fs::metadata(&db)
        .unwrap_or_else(|e| panic!("no database at {}: {e}\n{}", db.display(), server.log()));
    if let Some((uid, _)) = container.user {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(meta.uid(), uid, "database not written by the image's user");
    }

    server.child.kill().unwrap();
    server.child.wait().unwrap();
    assert!(
        !container.healthcheck(&[]).status.success(),
        "healthcheck passed after the server stopped"
    );
}

#[test]
fn rootfs_maps_image_paths() {
    let rootfs = Rootfs {
        dir: tempfile::tempdir().unwrap(),
    };
    let base = rootfs.dir.path().display().to_string();
    assert_eq!(
        rootfs.map("sqlite:///data/switchboard.db"),
        format!("sqlite://{base}/data/switchboard.db")
    );
    assert_eq!(
        rootfs.map("/app/templates"),
        format!("{base}/app/templates")
    );
    assert_eq!(rootfs.map("/database"), "/database");
    assert_eq!(rootfs.map("0.0.0.0"), "0.0.0.0");
}
