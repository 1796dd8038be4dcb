//! Where a command's output folder goes, and what it may replace there.
//!
//! netarch never deletes or moves what it did not write. A destination is replaced only when it
//! is missing, an empty folder, or a folder netarch wrote of the same kind (a run folder for a
//! run, a finished sweep folder for a merge), holding nothing but the files netarch writes there.
//! Anything else (a file, a user's folder, a folder of another kind, an unfinished sweep) is
//! refused before anything runs, with what is there and how to proceed.
//!
//! A folder is written into a hidden temporary sibling (`.NAME.tmp-PID`) and renamed into place
//! whole; the folder it replaces is first renamed to `.NAME.old-PID`, then removed. A lock file
//! beside it (`.NAME.lock`, holding the process id) keeps two processes from writing the same
//! destination at once: the second fails at once, before it simulates anything. Temporaries and
//! locks left by a process that no longer runs are removed by the next one.
//!
//! What counts as "a folder netarch wrote" is each kind's business ([`FolderKind`]): this module
//! knows no file names of its own.

use std::path::{Path, PathBuf};

use super::{OutputError, io};

/// What a folder of one kind must look like for netarch to replace it.
pub struct FolderKind {
    /// How messages name it ("a run folder").
    pub noun: &'static str,
    /// Checks an existing, non-empty folder: `Ok` when it is one of this kind that may be
    /// replaced, else what is there instead (for the message).
    pub recognise: fn(&Path) -> Result<(), String>,
}

/// The outcome of looking at a destination.
#[derive(Debug, PartialEq)]
enum Found {
    /// Nothing there, or an empty folder: nothing to lose.
    Free,
    /// A folder of the kind being written: it may be replaced.
    Replaceable,
}

/// A folder being written: files go into a temporary sibling until [`Staging::commit`].
pub struct Staging {
    tmp: PathBuf,
    dest: PathBuf,
    lock: PathBuf,
    kind: &'static FolderKind,
}

impl Staging {
    /// Starts writing the folder `dest` of `kind`: checks that it may be replaced, takes its
    /// lock, clears stale temporaries and creates the temporary folder (so an unwritable
    /// destination fails here, before any simulation). The parent is created if missing.
    pub fn new(dest: &Path, kind: &'static FolderKind) -> Result<Staging, OutputError> {
        Staging::start(dest, kind).map_err(|e| match e {
            // Nothing has run yet: a path that cannot be written is the user's to change.
            OutputError::Io { path, error } => OutputError::Refused {
                path: dest.to_path_buf(),
                message: format!("cannot be written ({}: {error}); choose another --out", path.display()),
            },
            other => other,
        })
    }

    fn start(dest: &Path, kind: &'static FolderKind) -> Result<Staging, OutputError> {
        let (parent, name) = split(dest)?;
        io(&parent, std::fs::create_dir_all(&parent))?;
        inspect(dest, kind)?;
        let lock = parent.join(format!(".{name}.lock"));
        take_lock(&lock, dest)?;
        // From here the lock is ours: a failure below must release it.
        let mut staging = Staging { tmp: PathBuf::new(), dest: dest.to_path_buf(), lock, kind };
        remove_stale(&parent, &name);
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if tmp.is_dir() {
            io(&tmp, std::fs::remove_dir_all(&tmp))?;
        }
        io(&tmp, std::fs::create_dir(&tmp))?;
        staging.tmp = tmp;
        Ok(staging)
    }

    /// The temporary folder files are written into.
    pub fn dir(&self) -> &Path {
        &self.tmp
    }

    /// The folder the files will be moved to.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Writes one file into the folder.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), OutputError> {
        let path = self.tmp.join(name);
        if let Some(parent) = path.parent() {
            io(parent, std::fs::create_dir_all(parent))?;
        }
        io(&path, std::fs::write(&path, bytes))
    }

    /// Moves the complete folder into place, replacing the previous one only if it is still
    /// one this kind may replace (it is checked again: it may have changed while this ran).
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        let dest = self.dest.clone();
        match inspect(&dest, self.kind)? {
            Found::Free => {
                // Renaming onto an empty folder replaces it; onto anything else it fails.
                io(&dest, std::fs::rename(&self.tmp, &dest))?;
            }
            Found::Replaceable => {
                let (parent, name) = split(&dest)?;
                let old = parent.join(format!(".{name}.old-{}", std::process::id()));
                io(&dest, std::fs::rename(&dest, &old))?;
                if let Err(error) = std::fs::rename(&self.tmp, &dest) {
                    // Put the previous folder back: the destination is as it was.
                    let _ = std::fs::rename(&old, &dest);
                    return Err(OutputError::Io { path: dest, error });
                }
                io(&old, std::fs::remove_dir_all(&old))?;
            }
        }
        self.tmp = PathBuf::new();
        Ok(dest)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Not committed: leave nothing half-written behind.
        if !self.tmp.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
        let _ = std::fs::remove_file(&self.lock);
    }
}

/// The destination's parent folder (`.` for a bare name) and its file name.
fn split(dest: &Path) -> Result<(PathBuf, String), OutputError> {
    let refuse = |message: &str| OutputError::Refused { path: dest.to_path_buf(), message: message.into() };
    let name = match dest.file_name() {
        Some(n) => n.to_string_lossy().into_owned(),
        // `.`, `..` or `/`: the folder the user is in, or above it; never replaced.
        None => {
            return Err(refuse(
                "names a folder netarch would have to replace from inside; give a new folder's name with --out",
            ));
        }
    };
    let parent = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    Ok((parent, name))
}

/// Says whether `dest` may be written as a folder of `kind`, or why not.
fn inspect(dest: &Path, kind: &FolderKind) -> Result<Found, OutputError> {
    let refuse = |what: String| OutputError::Refused {
        path: dest.to_path_buf(),
        message: format!(
            "{what}; netarch replaces only {} it wrote itself, so choose another --out, or move or remove it yourself",
            kind.noun
        ),
    };
    let meta = match std::fs::symlink_metadata(dest) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::Free),
        Err(error) => return Err(OutputError::Io { path: dest.to_path_buf(), error }),
    };
    if meta.file_type().is_symlink() {
        return Err(refuse("is a symbolic link".into()));
    }
    if !meta.is_dir() {
        return Err(refuse("is a file, not a folder".into()));
    }
    if is_working_folder(dest) {
        return Err(refuse("is the folder netarch runs in (or one above it)".into()));
    }
    let mut entries = io(dest, std::fs::read_dir(dest))?;
    if entries.next().is_none() {
        return Ok(Found::Free);
    }
    (kind.recognise)(dest).map(|()| Found::Replaceable).map_err(refuse)
}

/// Whether `dest` is the current folder or one of its ancestors (replacing it would pull the
/// floor from under the user's shell).
fn is_working_folder(dest: &Path) -> bool {
    match (dest.canonicalize(), std::env::current_dir().and_then(|d| d.canonicalize())) {
        (Ok(d), Ok(cwd)) => cwd.starts_with(d),
        _ => false,
    }
}

/// Creates the lock file, or fails naming the process that holds it. A lock whose process no
/// longer runs is stale and taken over.
fn take_lock(lock: &Path, dest: &Path) -> Result<(), OutputError> {
    for _ in 0..2 {
        match std::fs::OpenOptions::new().write(true).create_new(true).open(lock) {
            Ok(mut f) => {
                use std::io::Write;
                return io(lock, writeln!(f, "{}", std::process::id()));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let holder = std::fs::read_to_string(lock).ok().and_then(|t| t.trim().parse::<u32>().ok());
                match holder {
                    Some(pid) if pid != std::process::id() && process_runs(pid) => {
                        return Err(OutputError::Refused {
                            path: dest.to_path_buf(),
                            message: format!(
                                "another netarch process (pid {pid}) is writing this folder; wait for it to finish, \
                                 or choose another --out"
                            ),
                        });
                    }
                    // Stale (its process is gone) or unreadable: remove it and try once more.
                    _ => {
                        let _ = std::fs::remove_file(lock);
                    }
                }
            }
            Err(error) => return Err(OutputError::Io { path: lock.to_path_buf(), error }),
        }
    }
    Err(OutputError::Refused {
        path: dest.to_path_buf(),
        message: format!("another netarch process took {} first; try again", lock.display()),
    })
}

/// Removes `.NAME.tmp-PID` and `.NAME.old-PID` folders in `parent` whose process no longer runs
/// (left by a killed run); anything else is left alone, and a failure is no reason to stop.
fn remove_stale(parent: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    let prefixes = [format!(".{name}.tmp-"), format!(".{name}.old-")];
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let pid = prefixes.iter().find_map(|p| file.strip_prefix(p.as_str())).and_then(|s| s.parse::<u32>().ok());
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if let Some(pid) = pid
            && is_dir
            && pid != std::process::id()
            && !process_runs(pid)
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Whether a process with this id runs (on Linux, from `/proc`; elsewhere assumed, so a lock is
/// never taken from a live process).
fn process_runs(pid: u32) -> bool {
    if cfg!(target_os = "linux") { Path::new("/proc").join(pid.to_string()).exists() } else { true }
}

/// What a folder netarch did not write holds, for the message ("a folder netarch did not write,
/// holding data.csv, notes/").
pub fn foreign_folder(dir: &Path) -> String {
    match only_entries(dir, |_, _| false) {
        Err(what) => format!("is a folder netarch did not write: it {what}"),
        Ok(()) => "is a folder netarch did not write".into(),
    }
}

/// Checks that every entry of `dir` is one `allowed` accepts; else names the others (up to a
/// few) for the message.
pub fn only_entries(dir: &Path, allowed: impl Fn(&str, bool) -> bool) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot be read ({e})"))?;
    let mut foreign = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if !allowed(&name, is_dir) {
            foreign.push(if is_dir { format!("{name}/") } else { name });
        }
    }
    if foreign.is_empty() {
        return Ok(());
    }
    foreign.sort();
    let shown = foreign.len().min(4);
    let more = if foreign.len() > shown { format!(" and {} more", foreign.len() - shown) } else { String::new() };
    Err(format!("holds {}{more}", foreign[..shown].join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only_a(dir: &Path) -> Result<(), String> {
        only_entries(dir, |name, _| name == "a.json")
    }
    static KIND_A: FolderKind = FolderKind { noun: "an a folder", recognise: only_a };

    #[test]
    fn a_folder_of_the_same_kind_is_replaced_and_anything_else_is_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("out");
        let s = Staging::new(&dest, &KIND_A).unwrap();
        s.write("a.json", b"1").unwrap();
        s.commit().unwrap();
        let s = Staging::new(&dest, &KIND_A).unwrap();
        s.write("a.json", b"2").unwrap();
        s.commit().unwrap();
        assert_eq!(std::fs::read(dest.join("a.json")).unwrap(), b"2");

        std::fs::write(dest.join("notes.txt"), "mine").unwrap();
        let Err(OutputError::Refused { message, .. }) = Staging::new(&dest, &KIND_A) else { panic!("refused") };
        assert!(message.contains("notes.txt"), "{message}");
        assert_eq!(std::fs::read(dest.join("notes.txt")).unwrap(), b"mine");
        let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(leftovers, ["out"], "no temporary or lock left behind");
    }

    #[test]
    fn a_file_is_never_moved() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("notes.txt");
        std::fs::write(&dest, "mine").unwrap();
        assert!(matches!(Staging::new(&dest, &KIND_A), Err(OutputError::Refused { .. })));
        assert_eq!(std::fs::read(&dest).unwrap(), b"mine");
    }

    #[test]
    fn stale_temporaries_and_locks_of_dead_processes_are_cleared() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("out");
        // No process has id u32::MAX - 1 (Linux caps ids far below).
        let dead = u32::MAX - 1;
        std::fs::create_dir(tmp.path().join(format!(".out.tmp-{dead}"))).unwrap();
        std::fs::create_dir(tmp.path().join(format!(".out.old-{dead}"))).unwrap();
        std::fs::write(tmp.path().join(".out.lock"), format!("{dead}\n")).unwrap();
        std::fs::write(tmp.path().join(".out.old"), "a user's file with a similar name").unwrap();
        let s = Staging::new(&dest, &KIND_A).unwrap();
        s.write("a.json", b"1").unwrap();
        s.commit().unwrap();
        let mut left: Vec<_> =
            std::fs::read_dir(tmp.path()).unwrap().flatten().map(|e| e.file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(left, [".out.old", "out"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_live_lock_refuses_a_second_writer() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("out");
        let first = Staging::new(&dest, &KIND_A).unwrap();
        // The lock names this process, which runs; a second writer of another process would see
        // it held. Simulate that process by writing the parent's pid (which runs too).
        let parent_pid = std::os::unix::process::parent_id();
        std::fs::write(tmp.path().join(".out.lock"), format!("{parent_pid}\n")).unwrap();
        let Err(OutputError::Refused { message, .. }) = Staging::new(&dest, &KIND_A) else { panic!("refused") };
        assert!(message.contains("another netarch process"), "{message}");
        drop(first);
    }
}
