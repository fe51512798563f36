//! baresip as the phone: it registers with the account a real phone reads from its
//! provisioning file, answers an OPTIONS ping at the contact it registered, and unregisters
//! when it is stopped.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::harness::{Daemon, eventually};
use crate::sip::{phone_account, print_logs, sip_status};

/// How long a registration may take to show in the API (baresip registers at start; the
/// bound only ends a broken run).
const REGISTERED_WITHIN: Duration = Duration::from_secs(20);

/// A baresip with its own config directory, stopped (SIGKILL) on drop if still running.
pub(crate) struct Baresip {
    child: Option<Child>,
    pub(crate) dir: tempfile::TempDir,
}

impl Baresip {
    /// Starts baresip registering `user` with `password` at the daemon's SIP/UDP address. Only
    /// the G.711 codec and the account loader are loaded: no audio device, no UI.
    fn start(d: &Daemon, user: &str, password: &str) -> Baresip {
        Baresip::start_with(d, (user, password), ("", ";regint=600"), &[])
    }

    /// Like [`Baresip::start`] with `config` lines added (audio modules and devices), the
    /// account's parameters `params` (e.g. `;answermode=auto`), and baresip's `args`.
    pub(crate) fn start_with(
        d: &Daemon,
        (user, password): (&str, &str),
        (config, params): (&str, &str),
        args: &[&str],
    ) -> Baresip {
        let dir = tempfile::tempdir().expect("tempdir");
        write_config(dir.path(), config);
        let registrar = d.addr("SIP/UDP");
        // auth_user defaults to the URI's user; regint is the Expires it asks for.
        let account =
            format!("<sip:{user}@{registrar};transport=udp>;auth_pass={password}{params}\n");
        std::fs::write(dir.path().join("accounts"), account).expect("accounts");
        // Its output with the SIP trace (-s) goes to a file, printed when a test fails.
        let out = std::fs::File::create(dir.path().join("out.log")).expect("log");
        let err = out.try_clone().expect("log");
        let child = Command::new("baresip")
            .arg("-s")
            .arg("-f")
            .arg(dir.path())
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("baresip must be installed (scripts/setup-debian.sh installs baresip-core)");
        Baresip {
            child: Some(child),
            dir,
        }
    }

    /// What baresip printed so far.
    pub(crate) fn output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("out.log")).unwrap_or_default()
    }

    /// Sends SIGTERM (baresip unregisters, then exits), waits for it to end, and gives its
    /// exit status and output.
    pub(crate) fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let mut child = self.child.take().expect("running");
        let pid = child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.expect("kill").success());
        let status = child.wait().expect("wait");
        (status, self.output())
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// baresip's `config`: listen on loopback on any port, load only what registering needs, and
/// `extra`.
fn write_config(dir: &Path, extra: &str) {
    let config = format!(
        "poll_method epoll\n\
         sip_listen 127.0.0.1:0\n\
         module_path /usr/lib/baresip/modules\n\
         module g711.so\n\
         module_tmp account.so\n{extra}"
    );
    std::fs::write(dir.join("config"), config).expect("config");
}

/// Runs sipp's OPTIONS ping against `contact` (a registered phone's contact URI), sent to
/// `to`; true when the phone answered 200 naming INVITE in its Allow.
fn ping(to: &str, contact: &str) -> bool {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sipp/options_uac.xml");
    let status = Command::new("sipp")
        .current_dir(dir.path())
        .arg("-sf")
        .arg(&file)
        .args(["-key", "contact", contact, "-t", "u1", "-m", "1"])
        .args(["-i", "127.0.0.1", "-p", "0", "-timeout", "10s"])
        .args([
            "-recv_timeout",
            "5000",
            "-nostdin",
            "-trace_err",
            "-trace_msg",
        ])
        .arg(to)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("sipp");
    if !status.success() {
        print_logs(dir.path());
    }
    status.success()
}

#[test]
fn baresip_registers_with_the_provisioned_account_answers_options_and_unregisters_on_exit() {
    let d = Daemon::start();
    let (user, password) = phone_account(&d);
    let phone = Baresip::start(&d, &user, &password);
    let status = eventually(REGISTERED_WITHIN, || {
        let s = sip_status(&d);
        (s["registered"] == true).then_some(s)
    })
    .unwrap_or_else(|| {
        let log = d.log();
        panic!(
            "baresip did not register; log:\n{log}\nbaresip:\n{}",
            phone.output()
        )
    });
    let binding = &status["registrations"][0];
    let agent = binding["user_agent"].as_str().unwrap_or_default();
    assert!(agent.starts_with("baresip"), "{status}");
    assert_eq!(binding["transport"], "udp", "{status}");
    let contact = binding["contact"].as_str().expect("contact");
    let source = binding["source"].as_str().expect("source");
    assert!(ping(source, contact), "baresip did not answer OPTIONS");

    let (exit, output) = phone.terminate();
    assert!(exit.success(), "baresip on SIGTERM: {exit:?}\n{output}");
    let gone = eventually(REGISTERED_WITHIN, || {
        (sip_status(&d)["registered"] == false).then_some(())
    });
    assert!(gone.is_some(), "baresip's binding stayed after it exited");
    assert!(
        !d.log().contains(&password),
        "the SIP password reached the log"
    );
}
