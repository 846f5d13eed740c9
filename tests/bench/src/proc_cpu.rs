//! CPU time a process (and one of its threads) has used, from Linux's /proc, so the
//! benchmarks can report CPU per request: a figure that, unlike throughput, doesn't move
//! when something else on the machine takes a core for a while.

use std::time::Duration;

/// /proc reports process times in USER_HZ, which the kernel ABI fixes at 100.
const USER_HZ: f64 = 100.0;

/// User + system time of the whole process, exited threads included.
pub fn process(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after it are space separated.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_secs_f64((utime + stime) / USER_HZ))
}

/// Time on CPU of the process's live thread named `name` (as in /proc/…/comm).
pub fn thread(pid: u32, name: &str) -> Option<Duration> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim_end() == name {
            let schedstat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
            let nanos: u64 = schedstat.split_whitespace().next()?.parse().ok()?;
            return Some(Duration::from_nanos(nanos));
        }
    }
    None
}

/// User + system time of the live PostgreSQL server processes that work for `database`:
/// its backends (their command line names the database) and the server's own background
/// processes (WAL writer, checkpointer, …), not other databases' backends. Backends that
/// have exited are not counted.
pub fn postgres(database: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    let mut found = false;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if comm.trim_end() != "postgres" {
            continue;
        }
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline);
        // A backend's title is "postgres: USER DATABASE HOST(PORT) STATE" (or "[local]").
        let backend = cmdline.contains('(') || cmdline.contains("[local]");
        if backend && !cmdline.split_whitespace().any(|word| word == database) {
            continue;
        }
        if let Some(cpu) = process(pid) {
            total += cpu;
            found = true;
        }
    }
    found.then_some(total)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_this_process() {
        if cfg!(target_os = "linux") {
            let spin = std::time::Instant::now();
            while spin.elapsed().as_millis() < 30 {}
            assert!(super::process(std::process::id()).is_some());
        }
    }
}
