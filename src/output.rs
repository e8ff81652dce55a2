//! The one place that writes result files, and the rule that keeps an output folder whole.
//!
//! A run (or a redraw by `slotsim report`) writes everything into a private staging folder
//! inside the output folder ([`Stage`]), then publishes it:
//!
//! 1. `manifest.json` is written into the staging folder: a run id and, for every file of
//!    the run, its path, size and SHA-256 (the file list is whatever the staging folder
//!    holds, so new output files need no change here);
//! 2. under the folder's lock (`.slotsim-lock`), the staging folder is renamed to
//!    `.slotsim-publish-...`: this one rename is the **commit**. Before it, the folder
//!    holds the earlier run untouched; after it, the new run is decided;
//! 3. each file is moved into place, files of the earlier run that the new one does not
//!    have are removed, and `manifest.json` is moved last; then the publish folder is
//!    removed.
//!
//! Files written into a staging folder with [`write_atomic`] are checksummed as they are
//! written and made durable (fsync) all together at step 1, just before the manifest: the
//! disk writes them back while the rest of the run is made (their write-back is started
//! at once), and nothing is read back. A file written any other way is read, checksummed
//! and made durable there instead. Either way every file of the run is on disk before the
//! commit, as before.
//!
//! Step 3 can be cut short (an I/O error, a kill). It is idempotent, and every command
//! that opens the folder ([`recover`], also called by every publish) finishes a committed
//! publish whose writer is gone before doing anything else, and removes staging folders of
//! processes that no longer exist. [`verify`] checks every file against the manifest, so a
//! folder whose files come from different runs is refused, never read. Files not listed in
//! a manifest (anything the user keeps there) are never touched.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// The manifest's file name in an output folder.
pub const MANIFEST: &str = "manifest.json";
const STAGING_PREFIX: &str = ".slotsim-staging-";
const PUBLISH_PREFIX: &str = ".slotsim-publish-";
const LOCK: &str = ".slotsim-lock";
/// A manifest larger than this is not one slotsim wrote.
const MANIFEST_MAX_BYTES: u64 = 16 << 20;
const MANIFEST_FORMAT: &str = "slotsim-manifest-1";

#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Creates `dir` (and parents) if needed. Without its `.`s: the standard library's
/// `create_dir_all` fails on `new/made/.` when `new` is missing.
pub fn ensure_dir(dir: &Path) -> Result<(), WriteError> {
    let plain: PathBuf = dir.components().collect();
    std::fs::create_dir_all(&plain).map_err(|source| WriteError {
        path: dir.to_path_buf(),
        source,
    })
}

/// Writes `bytes` to `dir/name` atomically (temporary file + rename). Result files are
/// written this way into a [`Stage`]'s folder, never straight into an output folder.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, WriteError> {
    write_atomic_with(dir, name, |f| f.write_all(bytes))
}

/// [`write_atomic`] of what `write` writes, through a buffer: a large file need not be
/// whole in memory first.
///
/// Into a live staging folder the file is checksummed as it is written and its write-back
/// to disk is started, but not waited for: the publish waits for it (see the module's
/// description). Anywhere else the file is on disk (fsync) before it is renamed into place.
pub fn write_atomic_with(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<PathBuf, WriteError> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let err = |source| WriteError {
        path: path.clone(),
        source,
    };
    let staged = in_live_stage(&path);
    let result = (|| {
        let file = std::io::BufWriter::with_capacity(1 << 16, std::fs::File::create(&tmp)?);
        let mut f = Digesting {
            inner: file,
            sha: staged.then(Sha256::new),
            bytes: 0,
        };
        write(&mut f)?;
        let file = f.inner.into_inner().map_err(|e| e.into_error())?;
        if let Some(sha) = f.sha {
            start_write_back(&file);
            std::fs::rename(&tmp, &path)?;
            let digest = sha.finalize();
            let sha256 = digest.iter().map(|b| format!("{b:02x}")).collect();
            let written = Written {
                bytes: f.bytes,
                sha256,
                file,
            };
            book_written(path.clone(), written);
            Ok(())
        } else {
            file.sync_all()?;
            std::fs::rename(&tmp, &path)
        }
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    Ok(path)
}

/// A writer that counts and checksums what goes through it (when `sha` is set).
struct Digesting<W> {
    inner: W,
    sha: Option<Sha256>,
    bytes: u64,
}

impl<W: Write> Write for Digesting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(sha) = &mut self.sha {
            sha.update(&buf[..n]);
        }
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A file written into a live staging folder: its size and SHA-256 as written, and the
/// open file, to wait for its write-back when the folder is published.
#[derive(Debug)]
struct Written {
    bytes: u64,
    sha256: String,
    file: std::fs::File,
}

/// The staging folders of this process that are not yet published or dropped.
static LIVE_STAGES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// The files [`write_atomic`] wrote into them, by path (a later write of a path replaces
/// the earlier: it was renamed over it).
static WRITTEN: Mutex<Vec<(PathBuf, Written)>> = Mutex::new(Vec::new());

fn book_written(path: PathBuf, w: Written) {
    let mut book = WRITTEN.lock().unwrap_or_else(|e| e.into_inner());
    book.retain(|(p, _)| *p != path);
    book.push((path, w));
}

fn in_live_stage(path: &Path) -> bool {
    LIVE_STAGES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .any(|d| path.starts_with(d))
}

/// Takes the files written into `dir` out of the book, and `dir` off the live stages.
fn take_written(dir: &Path) -> HashMap<PathBuf, Written> {
    LIVE_STAGES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|d| d != dir);
    let mut book = WRITTEN.lock().unwrap_or_else(|e| e.into_inner());
    let (mine, others): (Vec<_>, Vec<_>) = std::mem::take(&mut *book)
        .into_iter()
        .partition(|(p, _)| p.starts_with(dir));
    *book = others;
    mine.into_iter().collect()
}

/// Asks the system to start writing `file` to disk now, without waiting: by the time the
/// publish waits for it (fsync), most of it is written. Only a hint (Linux).
fn start_write_back(file: &std::fs::File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        extern "C" {
            fn sync_file_range(fd: i32, offset: i64, nbytes: i64, flags: u32) -> i32;
        }
        const SYNC_FILE_RANGE_WRITE: u32 = 2;
        // SAFETY: a plain system call on an open descriptor this function borrows; it
        // reads no memory of ours, and its result (a hint) is ignored.
        unsafe {
            sync_file_range(file.as_raw_fd(), 0, 0, SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}

/// Whether `w` is the file at `path` now, as it was written.
fn still_there(w: &Written, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (w.file.metadata(), std::fs::symlink_metadata(path)) {
            (Ok(a), Ok(b)) => {
                a.dev() == b.dev() && a.ino() == b.ino() && b.is_file() && b.len() == w.bytes
            }
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (w, path);
        false
    }
}

/// Removes a folder after a failure (best effort: the error being reported matters more).
pub fn discard(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

// ---- the manifest -------------------------------------------------------------------------

/// One file of a run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Relative to the output folder, `/`-separated.
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// What a published output folder holds: the run's id and every file of it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    /// Unique per run; kept when `slotsim report` redraws the run's charts.
    pub run_id: String,
    /// Sorted by path.
    pub files: Vec<Entry>,
}

impl Manifest {
    pub fn entry(&self, path: &str) -> Option<&Entry> {
        self.files.iter().find(|e| e.path == path)
    }
}

/// Why a folder is not a whole run. The message names the file and what to do.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct VerifyError {
    pub path: PathBuf,
    pub message: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A manifest path is relative, plain (no `..`, no root) and not one of slotsim's own
/// hidden working names.
fn safe_relative(path: &str) -> bool {
    let p = Path::new(path);
    !path.is_empty()
        && !path.contains('\\')
        && p.components().all(|c| matches!(c, Component::Normal(_)))
        && !path.starts_with(".slotsim-")
        && path != MANIFEST
}

fn parse_manifest(path: &Path, text: &[u8]) -> Result<Manifest, VerifyError> {
    let bad = |message: String| VerifyError {
        path: path.to_path_buf(),
        message,
    };
    let m: Manifest = serde_json::from_slice(text)
        .map_err(|e| bad(format!("not a manifest slotsim wrote: {e}")))?;
    if m.format != MANIFEST_FORMAT {
        return Err(bad(format!(
            "unknown manifest format {:?} (this slotsim reads {MANIFEST_FORMAT:?})",
            m.format
        )));
    }
    let mut last: Option<&str> = None;
    for e in &m.files {
        if !safe_relative(&e.path) {
            return Err(bad(format!("lists an unsafe file name {:?}", e.path)));
        }
        if e.sha256.len() != 64 || !e.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad(format!("{}: malformed SHA-256 {:?}", e.path, e.sha256)));
        }
        if last.is_some_and(|l| l >= e.path.as_str()) {
            return Err(bad(format!(
                "{}: files are not sorted or listed twice",
                e.path
            )));
        }
        last = Some(&e.path);
    }
    Ok(m)
}

/// Reads a file that must be a regular file of at most `max` bytes.
fn read_regular(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("is not a regular file".to_string());
    }
    if meta.len() > max {
        return Err(format!("is larger than {max} bytes"));
    }
    std::fs::read(path).map_err(|e| e.to_string())
}

/// Reads `out/manifest.json` without checking the files.
pub fn read_manifest(out: &Path) -> Result<Option<Manifest>, VerifyError> {
    let path = out.join(MANIFEST);
    match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        _ => {}
    }
    let text = read_regular(&path, MANIFEST_MAX_BYTES).map_err(|message| VerifyError {
        path: path.clone(),
        message,
    })?;
    parse_manifest(&path, &text).map(Some)
}

/// Checks that `out` holds one whole run: its manifest, and every file it lists with the
/// listed size and SHA-256. Returns the manifest.
pub fn verify(out: &Path) -> Result<Manifest, VerifyError> {
    verify_but(out, &|_| false)
}

/// [`verify`], except that a file for which `remade` holds may be missing: a redraw makes
/// it again (a file that is there is checked all the same).
pub fn verify_but(out: &Path, remade: &dyn Fn(&str) -> bool) -> Result<Manifest, VerifyError> {
    let m = read_manifest(out)?.ok_or_else(|| VerifyError {
        path: out.join(MANIFEST),
        message: "missing: the folder does not hold a complete run written by `slotsim run` (an older slotsim, or a run that never finished); run the scenario again".to_string(),
    })?;
    for e in &m.files {
        let path = out.join(&e.path);
        let mixed = |what: &str| {
            VerifyError {
            path: path.clone(),
            message: format!(
                "{what}: it does not belong to run {} of {MANIFEST} (the folder mixes files of different runs, or a file was changed); run the scenario again",
                m.run_id
            ),
        }
        };
        if std::fs::symlink_metadata(&path)
            .is_err_and(|err| err.kind() == std::io::ErrorKind::NotFound)
        {
            if remade(&e.path) {
                continue;
            }
            return Err(VerifyError {
                path,
                message: format!("missing: {MANIFEST} lists it as a file of run {}, but it is not there (deleted or moved since); run the scenario again", m.run_id),
            });
        }
        let bytes = read_regular(&path, e.bytes).map_err(|why| mixed(&why))?;
        if bytes.len() as u64 != e.bytes {
            return Err(mixed(&format!(
                "{} bytes, the manifest says {}",
                bytes.len(),
                e.bytes
            )));
        }
        if sha256_hex(&bytes) != e.sha256 {
            return Err(mixed("its SHA-256 differs from the manifest's"));
        }
    }
    Ok(m)
}

// ---- file operations, with failures injectable for tests ----------------------------------

/// The file operations of publishing. Tests make the k-th operation fail, either as an I/O
/// error the writer sees and handles, or as a crash after which nothing more happens.
#[derive(Debug, Default)]
pub struct Ops {
    count: std::cell::Cell<usize>,
    fail_at: Option<usize>,
    crash: bool,
    dead: std::cell::Cell<bool>,
}

impl Ops {
    /// Real file operations.
    pub fn real() -> Ops {
        Ops::default()
    }

    /// Operation number `k` (0-based) fails; with `crash`, so does every later one, as if
    /// the process had been killed there.
    #[doc(hidden)]
    pub fn failing_at(k: usize, crash: bool) -> Ops {
        Ops {
            fail_at: Some(k),
            crash,
            ..Ops::default()
        }
    }

    /// How many operations ran (or were attempted).
    #[doc(hidden)]
    pub fn count(&self) -> usize {
        self.count.get()
    }

    fn step(&self, what: &str, path: &Path) -> std::io::Result<()> {
        let k = self.count.get();
        self.count.set(k + 1);
        if self.dead.get() || self.fail_at == Some(k) {
            if self.crash {
                self.dead.set(true);
            }
            return Err(std::io::Error::other(format!(
                "injected failure of operation {k} ({what} {})",
                path.display()
            )));
        }
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        self.step("rename", from)?;
        std::fs::rename(from, to)
    }

    fn remove_file(&self, path: &Path) -> std::io::Result<()> {
        self.step("remove", path)?;
        match std::fs::remove_file(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }

    fn remove_dir_all(&self, path: &Path) -> std::io::Result<()> {
        self.step("remove folder", path)?;
        match std::fs::remove_dir_all(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }

    fn create_dir_all(&self, path: &Path) -> std::io::Result<()> {
        self.step("create folder", path)?;
        std::fs::create_dir_all(path)
    }

    /// Creates `path` with `bytes`, on disk before returning when `durable`.
    fn write_new(&self, path: &Path, bytes: &[u8], durable: bool) -> std::io::Result<()> {
        self.step("write", path)?;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)?;
        f.write_all(bytes)?;
        if durable {
            f.sync_all()?;
        }
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> std::io::Result<()> {
        self.step("sync", dir)?;
        // Durability of the renames; not every platform can open a folder for it.
        if let Ok(f) = std::fs::File::open(dir) {
            let _ = f.sync_all();
        }
        Ok(())
    }
}

// ---- processes ------------------------------------------------------------------------------

/// Whether process `pid` still exists. Where this cannot be known (no `/proc`), a
/// process is assumed alive, so nothing of a running writer is ever removed.
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    if proc.join("self").exists() {
        proc.join(pid.to_string()).exists()
    } else {
        true
    }
}

/// The pid in `.slotsim-staging-PID-N` or `.slotsim-publish-PID-N`.
fn owner_pid(name: &str, prefix: &str) -> Option<u32> {
    name.strip_prefix(prefix)?.split('-').next()?.parse().ok()
}

/// Who writes: the process id in staging names and the lock (tests pose as a process that
/// is gone).
#[derive(Debug, Clone, Copy)]
struct Owner {
    pid: u32,
}

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

// ---- the lock -------------------------------------------------------------------------------

struct Lock<'a> {
    path: PathBuf,
    ops: &'a Ops,
}

impl Lock<'_> {
    fn acquire<'a>(out: &Path, owner: Owner, ops: &'a Ops) -> Result<Lock<'a>, WriteError> {
        let path = out.join(LOCK);
        let err = |source| WriteError {
            path: path.clone(),
            source,
        };
        for _ in 0..3 {
            // Not made durable: after a crash its writer is gone either way, and a lock
            // of a process that is gone is cleared (below).
            match ops.write_new(&path, format!("{}\n", owner.pid).as_bytes(), false) {
                Ok(()) => return Ok(Lock { path, ops }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|t| t.trim().parse::<u32>().ok());
                    match holder {
                        Some(pid) if process_alive(pid) => {
                            return Err(err(std::io::Error::other(format!(
                                "another slotsim process (pid {pid}) is writing this folder; wait for it to finish"
                            ))));
                        }
                        // Left by a process that is gone (or unreadable: half-written by
                        // one that died creating it).
                        _ => ops.remove_file(&path).map_err(err)?,
                    }
                }
                Err(e) => return Err(err(e)),
            }
        }
        Err(err(std::io::Error::other(
            "cannot take the folder's lock (it keeps reappearing)",
        )))
    }

    fn release(self) {
        let _ = self.ops.remove_file(&self.path);
    }
}

// ---- staging and publishing -----------------------------------------------------------------

/// A private folder inside an output folder where one run's files are written before they
/// are published. Dropped without [`Stage::publish`], it is removed.
#[derive(Debug)]
pub struct Stage {
    out: PathBuf,
    dir: PathBuf,
    owner: Owner,
    /// Set when the folder must be left as it is (published, or a simulated crash).
    done: bool,
    /// The folders of `out` that this stage created (`out` itself and parents of it that
    /// did not exist), deepest first: a run that fails or is interrupted before it
    /// publishes removes them, so a new `--out` is as it was too.
    created: Vec<PathBuf>,
}

/// What a publish replaces.
#[derive(Debug, Clone)]
pub enum Publish {
    /// A new run: every file of the earlier run is replaced or removed.
    NewRun,
    /// A redraw of the run `run_id` that the folder holds now: the staged files replace
    /// theirs, every other file of the run is kept (after checking it again).
    SameRun { run_id: String },
}

impl Stage {
    /// Creates `out` if needed, finishes or clears what interrupted writers left there
    /// ([`recover`]), and creates a fresh staging folder. Fails early, before any work,
    /// when `out` cannot be written.
    pub fn new(out: &Path) -> Result<Stage, WriteError> {
        Stage::new_as(
            out,
            Owner {
                pid: std::process::id(),
            },
        )
    }

    fn new_as(out: &Path, owner: Owner) -> Result<Stage, WriteError> {
        // Walked up only without `..`: in `x/../y` the folder before `..` is not one of
        // the target's parents. (`components` drops the `.`s.)
        let plain: PathBuf = out.components().collect();
        let created = if plain.components().any(|c| c == Component::ParentDir) {
            Vec::new()
        } else {
            plain
                .ancestors()
                .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
                .map(Path::to_path_buf)
                .collect()
        };
        ensure_dir(out)?;
        recover(out)?;
        let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let dir = out.join(format!("{STAGING_PREFIX}{}-{n}", owner.pid));
        discard(&dir);
        std::fs::create_dir(&dir).map_err(|source| WriteError {
            path: dir.clone(),
            source,
        })?;
        LIVE_STAGES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(dir.clone());
        Ok(Stage {
            out: out.to_path_buf(),
            dir,
            owner,
            done: false,
            created,
        })
    }

    /// Where to write the run's files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Publishes the staged files (see the module's description).
    pub fn publish(self, how: Publish) -> Result<Manifest, WriteError> {
        self.publish_with(how, &Ops::real())
    }

    /// [`Stage::publish`] with injectable failures.
    #[doc(hidden)]
    pub fn publish_with(mut self, how: Publish, ops: &Ops) -> Result<Manifest, WriteError> {
        let result = publish(&self, &how, ops);
        if ops.dead.get() {
            // A simulated kill: nothing more runs, the staging folder stays where it was.
            self.done = true;
        } else if result.is_ok() {
            self.done = true;
        }
        result
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        drop(take_written(&self.dir));
        if !self.done {
            discard(&self.dir);
            // Only empty folders are removed (`remove_dir`): anything else put there
            // meanwhile, or a publish cut short after its commit, is kept.
            for dir in &self.created {
                if std::fs::remove_dir(dir).is_err() {
                    break;
                }
            }
        }
    }
}

/// Every file under `dir`, as sorted `/`-separated relative paths (temporary files of
/// [`write_atomic`] excluded).
fn list_files(dir: &Path) -> std::io::Result<Vec<String>> {
    fn walk(root: &Path, rel: &str, out: &mut Vec<String>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(root.join(rel))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let kind = entry.file_type()?;
            if kind.is_dir() {
                walk(root, &path, out)?;
            } else if kind.is_file() && !(name.starts_with('.') && name.contains(".tmp-")) {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, "", &mut files)?;
    files.sort();
    Ok(files)
}

fn new_run_id(owner: Owner) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let id = sha256_hex(format!("{}-{now}-{seq}", owner.pid).as_bytes());
    id[..20].to_string()
}

fn publish(stage: &Stage, how: &Publish, ops: &Ops) -> Result<Manifest, WriteError> {
    let out = &stage.out;
    let werr = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError { path, source }
    };
    // 1. The manifest of the staged files, each on disk (fsync) and checksummed, as a task
    // of its own (on every core of the caller's rayon pool). A file `write_atomic` wrote
    // was checksummed as it was written; any other is read back.
    let written = take_written(&stage.dir);
    let names = list_files(&stage.dir).map_err(werr(&stage.dir))?;
    for rel in &names {
        if rel == MANIFEST || !safe_relative(rel) {
            return Err(werr(&stage.dir.join(rel))(std::io::Error::other(
                "a staged file has a name slotsim reserves",
            )));
        }
    }
    use rayon::prelude::*;
    let mut files = names
        .into_par_iter()
        .map(|rel| {
            let path = stage.dir.join(&rel);
            match written.get(&path) {
                Some(w) if still_there(w, &path) => {
                    w.file.sync_all().map_err(werr(&path))?;
                    Ok(Entry {
                        sha256: w.sha256.clone(),
                        bytes: w.bytes,
                        path: rel,
                    })
                }
                _ => {
                    let bytes = std::fs::read(&path).map_err(werr(&path))?;
                    std::fs::OpenOptions::new()
                        .write(true)
                        .open(&path)
                        .and_then(|f| f.sync_all())
                        .map_err(werr(&path))?;
                    Ok(Entry {
                        sha256: sha256_hex(&bytes),
                        bytes: bytes.len() as u64,
                        path: rel,
                    })
                }
            }
        })
        .collect::<Result<Vec<_>, WriteError>>()?;
    drop(written);

    let lock = Lock::acquire(out, stage.owner, ops)?;
    let result = (|| {
        finish_interrupted(out, ops, Some(&stage.dir))?;
        let run_id = match how {
            Publish::NewRun => new_run_id(stage.owner),
            Publish::SameRun { run_id } => {
                // The run being redrawn must still be the folder's, and whole but for
                // the files this publish puts back.
                let now = verify_but(out, &|p| files.iter().any(|f| f.path == p)).map_err(|e| {
                    WriteError {
                        path: e.path.clone(),
                        source: std::io::Error::other(e.message),
                    }
                })?;
                if &now.run_id != run_id {
                    return Err(werr(&out.join(MANIFEST))(std::io::Error::other(
                        "another run was published into this folder meanwhile",
                    )));
                }
                for e in now.files {
                    if !files.iter().any(|f| f.path == e.path) {
                        files.push(e);
                    }
                }
                files.sort_by(|a, b| a.path.cmp(&b.path));
                run_id.clone()
            }
        };
        let manifest = Manifest {
            format: MANIFEST_FORMAT.to_string(),
            run_id,
            files,
        };
        let text = serde_json::to_vec_pretty(&manifest).expect("a manifest serialises");
        let mpath = stage.dir.join(MANIFEST);
        ops.write_new(&mpath, &text, true).map_err(werr(&mpath))?;
        ops.sync_dir(&stage.dir).map_err(werr(&stage.dir))?;

        // 2. The commit.
        let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let pdir = out.join(format!("{PUBLISH_PREFIX}{}-{n}", stage.owner.pid));
        ops.rename(&stage.dir, &pdir).map_err(werr(&pdir))?;
        ops.sync_dir(out).map_err(werr(out))?;

        // 3. Into place; on a failure, one more try (the steps are idempotent).
        if let Err(first) = roll_forward(&pdir, out, ops) {
            if ops.dead.get() {
                return Err(first);
            }
            roll_forward(&pdir, out, ops).map_err(|e| WriteError {
                path: e.path,
                source: std::io::Error::other(format!(
                    "{} (the new run is committed but not all in place; the next `slotsim run` or `slotsim report` on this folder completes it)",
                    e.source
                )),
            })?;
        }
        Ok(manifest)
    })();
    if !ops.dead.get() {
        lock.release();
    }
    result
}

/// Moves a committed publish folder's files into `out` (idempotent; see the module's
/// description).
fn roll_forward(pdir: &Path, out: &Path, ops: &Ops) -> Result<(), WriteError> {
    let werr = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError { path, source }
    };
    let mpath = pdir.join(MANIFEST);
    let new = match std::fs::read(&mpath) {
        Ok(text) => parse_manifest(&mpath, &text).map_err(|e| WriteError {
            path: e.path,
            source: std::io::Error::other(e.message),
        })?,
        // The manifest was the last thing moved: only the empty folder is left.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return ops.remove_dir_all(pdir).map_err(werr(pdir));
        }
        Err(e) => return Err(werr(&mpath)(e)),
    };
    for e in &new.files {
        let from = pdir.join(&e.path);
        if std::fs::symlink_metadata(&from).is_ok() {
            let to = out.join(&e.path);
            if let Some(parent) = to.parent() {
                if !parent.is_dir() {
                    ops.create_dir_all(parent).map_err(werr(parent))?;
                }
            }
            ops.rename(&from, &to).map_err(werr(&to))?;
        }
    }
    // Files of the earlier run that the new one does not have (an unreadable or foreign
    // manifest names none: nothing is removed on its word).
    if let Ok(Some(old)) = read_manifest(out) {
        for e in &old.files {
            if new.entry(&e.path).is_none() {
                let path = out.join(&e.path);
                ops.remove_file(&path).map_err(werr(&path))?;
            }
        }
    }
    let to = out.join(MANIFEST);
    ops.rename(&mpath, &to).map_err(werr(&to))?;
    ops.sync_dir(out).map_err(werr(out))?;
    ops.remove_dir_all(pdir).map_err(werr(pdir))
}

/// Under the lock: completes committed publishes whose writer is gone and removes their
/// leftovers and the staging folders of processes that no longer exist.
fn finish_interrupted(out: &Path, ops: &Ops, own: Option<&Path>) -> Result<(), WriteError> {
    let entries = std::fs::read_dir(out).map_err(|source| WriteError {
        path: out.to_path_buf(),
        source,
    })?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".slotsim-"))
        .collect();
    names.sort();
    for name in names {
        let path = out.join(&name);
        if own == Some(path.as_path()) {
            continue;
        }
        if owner_pid(&name, PUBLISH_PREFIX).is_some() {
            // Under the lock no live writer can be in its step 3.
            roll_forward(&path, out, ops)?;
        } else if let Some(pid) = owner_pid(&name, STAGING_PREFIX) {
            if !process_alive(pid) {
                ops.remove_dir_all(&path).map_err(|source| WriteError {
                    path: path.clone(),
                    source,
                })?;
            }
        }
    }
    Ok(())
}

/// Brings `out` to a whole state before it is read: completes a publish that was cut short
/// and removes what dead writers left. Nothing to do for a folder that does not exist.
pub fn recover(out: &Path) -> Result<(), WriteError> {
    recover_with(out, &Ops::real())
}

fn recover_with(out: &Path, ops: &Ops) -> Result<(), WriteError> {
    if !out.is_dir() {
        return Ok(());
    }
    let pending = std::fs::read_dir(out)
        .map_err(|source| WriteError {
            path: out.to_path_buf(),
            source,
        })?
        .filter_map(|e| e.ok())
        .any(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with(PUBLISH_PREFIX)
                || owner_pid(&n, STAGING_PREFIX).is_some_and(|p| !process_alive(p))
                || n == LOCK
        });
    if !pending {
        return Ok(());
    }
    let lock = Lock::acquire(
        out,
        Owner {
            pid: std::process::id(),
        },
        ops,
    )?;
    let r = finish_interrupted(out, ops, None);
    lock.release();
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process id that no process has (above Linux's largest pid_max).
    const GONE: Owner = Owner { pid: 0x7fff_fff0 };

    #[test]
    fn writes_and_replaces_without_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        write_atomic(dir.path(), "a.csv", b"one").unwrap();
        write_atomic(dir.path(), "a.csv", b"two").unwrap();
        assert_eq!(std::fs::read(dir.path().join("a.csv")).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn reports_the_path_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no/such/dir");
        let e = write_atomic(&missing, "x.csv", b"x").unwrap_err();
        assert!(e.to_string().contains("x.csv"), "{e}");
    }

    type Files = Vec<(&'static str, &'static [u8])>;

    fn old_run() -> Files {
        vec![
            ("summary.csv", b"old summary"),
            ("run.json", b"old run"),
            ("charts/a.png", b"old a"),
            ("charts/gone.png", b"only the old run has this"),
        ]
    }

    fn new_run() -> Files {
        vec![
            ("summary.csv", b"new summary"),
            ("run.json", b"new run"),
            ("charts/a.png", b"new a"),
            ("charts/b.svg", b"new b"),
            ("plan.csv", b"a file only the new run has"),
        ]
    }

    fn stage(out: &Path, owner: Owner, files: &Files) -> Stage {
        let s = Stage::new_as(out, owner).unwrap();
        for (path, bytes) in files {
            let p = s.dir().join(path);
            ensure_dir(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
        s
    }

    /// The run's files as (path, bytes), read through the manifest after verifying it.
    fn whole_run(out: &Path) -> Vec<(String, Vec<u8>)> {
        let m = verify(out).unwrap_or_else(|e| panic!("not whole: {e}"));
        m.files
            .iter()
            .map(|e| (e.path.clone(), std::fs::read(out.join(&e.path)).unwrap()))
            .collect()
    }

    fn as_owned(files: &Files) -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = files
            .iter()
            .map(|(p, b)| (p.to_string(), b.to_vec()))
            .collect();
        v.sort();
        v
    }

    /// Every of our files on disk is listed, nothing else of ours remains.
    fn no_leftovers(out: &Path) {
        let m = verify(out).unwrap();
        for rel in list_files(out).unwrap() {
            let ours = rel == MANIFEST || m.entry(&rel).is_some() || rel == "notes.txt";
            assert!(ours, "left over: {rel}");
        }
        let hidden: Vec<_> = std::fs::read_dir(out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".slotsim-"))
            .collect();
        assert!(hidden.is_empty(), "{hidden:?}");
    }

    fn folder_with_old_run() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        std::fs::write(out.join("notes.txt"), b"the user's own file").unwrap();
        stage(out, GONE, &old_run())
            .publish(Publish::NewRun)
            .unwrap();
        assert_eq!(whole_run(out), as_owned(&old_run()));
        dir
    }

    #[test]
    fn publish_replaces_the_run_and_keeps_unrelated_files() {
        let dir = folder_with_old_run();
        let out = dir.path();
        let m = stage(out, GONE, &new_run())
            .publish(Publish::NewRun)
            .unwrap();
        assert_eq!(whole_run(out), as_owned(&new_run()));
        assert_eq!(m.files.len(), new_run().len());
        assert!(!out.join("charts/gone.png").exists());
        assert_eq!(
            std::fs::read(out.join("notes.txt")).unwrap(),
            b"the user's own file"
        );
        no_leftovers(out);
    }

    /// The must-show test: a failure at every step of publishing, either an I/O error the
    /// writer sees or a kill after which nothing more runs. Each time the folder is the
    /// earlier run or the new one, whole, once any later command has opened it; before
    /// the commit it is the earlier run untouched.
    #[test]
    fn a_failure_at_any_step_leaves_a_whole_run() {
        let total = {
            let dir = folder_with_old_run();
            let ops = Ops::real();
            stage(dir.path(), GONE, &new_run())
                .publish_with(Publish::NewRun, &ops)
                .unwrap();
            ops.count()
        };
        assert!(total >= 10, "{total} operations");
        for crash in [false, true] {
            for k in 0..total {
                let dir = folder_with_old_run();
                let out = dir.path();
                let ops = Ops::failing_at(k, crash);
                let r = stage(out, GONE, &new_run()).publish_with(Publish::NewRun, &ops);
                let committed = std::fs::read_dir(out).unwrap().any(|e| {
                    e.unwrap()
                        .file_name()
                        .to_string_lossy()
                        .starts_with(PUBLISH_PREFIX)
                });
                if r.is_ok() {
                    // Only the lock's release may fail after the work is done.
                    assert_eq!(whole_run(out), as_owned(&new_run()), "k={k}");
                } else if !committed {
                    // Not committed: the earlier run, untouched.
                    assert_eq!(whole_run(out), as_owned(&old_run()), "k={k} crash={crash}");
                }
                // What the next command sees.
                recover(out).unwrap();
                let now = whole_run(out);
                assert!(
                    now == as_owned(&old_run()) || now == as_owned(&new_run()),
                    "k={k} crash={crash}: mixed {now:?}"
                );
                if committed {
                    assert_eq!(now, as_owned(&new_run()), "k={k} crash={crash}");
                }
                no_leftovers(out);
                assert_eq!(
                    std::fs::read(out.join("notes.txt")).unwrap(),
                    b"the user's own file"
                );
            }
        }
    }

    #[test]
    fn verify_refuses_a_mixed_or_changed_folder() {
        let dir = folder_with_old_run();
        let out = dir.path();
        let old_summary = std::fs::read(out.join("summary.csv")).unwrap();
        stage(out, GONE, &new_run())
            .publish(Publish::NewRun)
            .unwrap();
        std::fs::write(out.join("summary.csv"), old_summary).unwrap();
        let e = verify(out).unwrap_err().to_string();
        assert!(e.contains("summary.csv") && e.contains("mixes"), "{e}");
        std::fs::remove_file(out.join("summary.csv")).unwrap();
        let e = verify(out).unwrap_err().to_string();
        assert!(e.contains("summary.csv"), "{e}");
        std::fs::remove_file(out.join(MANIFEST)).unwrap();
        let e = verify(out).unwrap_err().to_string();
        assert!(e.contains("manifest.json") && e.contains("missing"), "{e}");
    }

    #[test]
    fn a_manifest_cannot_point_outside_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let sha = "0".repeat(64);
        for bad in ["../x", "/etc/passwd", "a/../../b", ".slotsim-lock", ""] {
            let text = format!(
                r#"{{"format":"{MANIFEST_FORMAT}","run_id":"r","files":[{{"path":"{bad}","bytes":1,"sha256":"{sha}"}}]}}"#
            );
            std::fs::write(dir.path().join(MANIFEST), text).unwrap();
            assert!(verify(dir.path()).is_err(), "{bad}");
        }
    }

    #[test]
    fn stale_staging_and_lock_of_dead_processes_are_removed() {
        let dir = folder_with_old_run();
        let out = dir.path();
        let dead = out.join(format!("{STAGING_PREFIX}{}-0", GONE.pid));
        std::fs::create_dir_all(dead.join("charts")).unwrap();
        std::fs::write(dead.join("summary.csv"), b"half").unwrap();
        std::fs::write(out.join(LOCK), format!("{}\n", GONE.pid)).unwrap();
        let live = out.join(format!("{STAGING_PREFIX}{}-99", std::process::id()));
        std::fs::create_dir(&live).unwrap();
        recover(out).unwrap();
        assert!(!dead.exists());
        assert!(!out.join(LOCK).exists());
        assert!(
            live.exists(),
            "a live process's staging folder is not touched"
        );
        std::fs::remove_dir(&live).unwrap();
        no_leftovers(out);
    }

    #[test]
    fn a_live_writer_holds_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        let s = stage(out, GONE, &new_run());
        std::fs::write(out.join(LOCK), format!("{}\n", std::process::id())).unwrap();
        let e = s.publish(Publish::NewRun).unwrap_err().to_string();
        assert!(e.contains("another slotsim process"), "{e}");
        // The failed publish left no staging folder behind.
        let left: Vec<_> = std::fs::read_dir(out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(STAGING_PREFIX))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    /// Files written with `write_atomic` into the staging folder are checksummed as they
    /// are written: the manifest holds what is on disk, also for a file written twice, a
    /// file written in pieces, one replaced by other means after it was written, and one
    /// written only by other means.
    #[test]
    fn files_checksummed_as_written_match_the_manifest() {
        let dir = folder_with_old_run();
        let out = dir.path();
        let s = Stage::new_as(out, GONE).unwrap();
        let charts = s.dir().join("charts");
        ensure_dir(&charts).unwrap();
        write_atomic(s.dir(), "summary.csv", b"first").unwrap();
        write_atomic(s.dir(), "summary.csv", b"second, longer").unwrap();
        write_atomic_with(&charts, "a.svg", |w| {
            for i in 0..10_000 {
                write!(w, "{i} ")?;
            }
            Ok(())
        })
        .unwrap();
        write_atomic(s.dir(), "run.json", b"as written").unwrap();
        std::fs::remove_file(s.dir().join("run.json")).unwrap();
        std::fs::write(s.dir().join("run.json"), b"as replaced").unwrap();
        std::fs::write(s.dir().join("plan.csv"), b"not through write_atomic").unwrap();
        let m = s.publish(Publish::NewRun).unwrap();
        assert_eq!(m.files.len(), 4);
        let now = whole_run(out);
        assert!(now.contains(&("summary.csv".to_string(), b"second, longer".to_vec())));
        assert!(now.contains(&("run.json".to_string(), b"as replaced".to_vec())));
        let svg = &now.iter().find(|(p, _)| p == "charts/a.svg").unwrap().1;
        assert!(svg.starts_with(b"0 1 2 ") && svg.ends_with(b"9999 "));
        no_leftovers(out);
        // Nothing of the published stage is kept in the book of written files.
        assert!(WRITTEN
            .lock()
            .unwrap()
            .iter()
            .all(|(p, _)| !p.starts_with(out)));
    }

    /// Outside a live staging folder (and after its stage is dropped) a file is written
    /// and made durable at once, and not kept in the book.
    #[test]
    fn only_live_staging_folders_defer_durability() {
        let dir = tempfile::tempdir().unwrap();
        let s = Stage::new_as(dir.path(), GONE).unwrap();
        let staged = s.dir().to_path_buf();
        write_atomic(&staged, "a.csv", b"a").unwrap();
        assert!(in_live_stage(&staged.join("a.csv")));
        write_atomic(dir.path(), "b.csv", b"b").unwrap();
        drop(s);
        assert!(!in_live_stage(&staged.join("a.csv")));
        let book = WRITTEN.lock().unwrap();
        assert!(book.iter().all(|(p, _)| !p.starts_with(dir.path())));
    }

    #[test]
    fn a_redraw_keeps_the_run_id_and_the_files_it_does_not_replace() {
        let dir = folder_with_old_run();
        let out = dir.path();
        let before = verify(out).unwrap();
        let redraw: Files = vec![("charts/a.png", b"redrawn a")];
        let m = stage(out, GONE, &redraw)
            .publish(Publish::SameRun {
                run_id: before.run_id.clone(),
            })
            .unwrap();
        assert_eq!(m.run_id, before.run_id);
        let now = whole_run(out);
        assert_eq!(now.len(), old_run().len());
        assert!(now.contains(&("charts/a.png".to_string(), b"redrawn a".to_vec())));
        assert!(now.contains(&("summary.csv".to_string(), b"old summary".to_vec())));
        // A redraw of a run that is no longer the folder's is refused.
        let e = stage(out, GONE, &redraw)
            .publish(Publish::SameRun {
                run_id: "another".into(),
            })
            .unwrap_err();
        assert!(e.to_string().contains("meanwhile"), "{e}");
        no_leftovers(out);
    }
}
