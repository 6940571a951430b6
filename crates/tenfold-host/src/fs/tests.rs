use super::*;

#[test]
fn failed_sync_poisons_the_file_for_good() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = Dir::open(scratch.path()).unwrap();
    let mut file = dir.create("a.log").unwrap();
    file.append(b"accepted").unwrap();
    file.sync_data().unwrap();

    file.append(b"maybe lost").unwrap();
    file.fail_next_sync = true;
    let error = file.sync_data().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::SyncFailed);
    assert_eq!(error.op(), Op::SyncFile);
    assert!(file.is_poisoned());

    // A retried sync must not report success: the kernel may have dropped the dirty pages.
    assert_eq!(file.sync_data().unwrap_err().kind(), ErrorKind::Poisoned);
    assert_eq!(file.sync_all().unwrap_err().kind(), ErrorKind::Poisoned);
    assert_eq!(
        file.append(b"more").unwrap_err().kind(),
        ErrorKind::Poisoned
    );
    assert_eq!(
        file.read_at(0, &mut [0; 4]).unwrap_err().kind(),
        ErrorKind::Poisoned
    );

    // Reopening is the way out, and what was synced before the failure is still there.
    drop(file);
    let file = dir.open_file("a.log").unwrap();
    let mut buf = [0; 8];
    file.read_exact_at(0, &mut buf).unwrap();
    assert_eq!(&buf, b"accepted");
}
