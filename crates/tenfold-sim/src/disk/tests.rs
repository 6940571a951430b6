use super::*;

fn disk(config: DiskConfig) -> Disk {
    Disk::new(config, SimRng::new(11))
}

#[test]
fn synced_writes_survive_a_crash_and_unsynced_ones_may_not() {
    let mut disk = disk(DiskConfig::default());
    disk.create("log").unwrap();
    disk.append("log", b"durable").unwrap();
    disk.sync("log").unwrap();
    for _ in 0..50 {
        disk.append("log", b"-volatile").unwrap();
        disk.crash();
        let bytes = disk.read_all("log").unwrap();
        assert!(bytes.starts_with(b"durable"));
        assert!(
            bytes == b"durable" || bytes == b"durable-volatile",
            "{bytes:?}"
        );
        disk.truncate("log", 7).unwrap();
        disk.sync("log").unwrap();
    }
}

#[test]
fn a_crash_keeps_a_prefix_of_the_pending_writes_in_order() {
    let mut disk = disk(DiskConfig::default());
    disk.create("f").unwrap();
    let mut seen = [false; 4];
    for _ in 0..200 {
        for byte in [b'a', b'b', b'c'] {
            disk.append("f", &[byte]).unwrap();
        }
        disk.crash();
        let bytes = disk.read_all("f").unwrap();
        assert!(b"abc".starts_with(&bytes), "{bytes:?}");
        seen[bytes.len()] = true;
        disk.truncate("f", 0).unwrap();
        disk.sync("f").unwrap();
    }
    assert_eq!(seen, [true; 4], "every prefix length should turn up");
}

#[test]
fn torn_writes_cut_at_sector_boundaries() {
    let config = DiskConfig {
        sector_size: 512,
        torn_write: 1.0,
        ..DiskConfig::default()
    };
    let mut disk = disk(config);
    disk.create("f").unwrap();
    disk.write_at("f", 0, &[1; 100]).unwrap();
    disk.sync("f").unwrap();
    let mut lengths = std::collections::BTreeSet::new();
    for _ in 0..300 {
        disk.write_at("f", 100, &[7; 2000]).unwrap();
        disk.crash();
        let bytes = disk.read_all("f").unwrap();
        lengths.insert(bytes.len());
        assert!(bytes[..100].iter().all(|&b| b == 1));
        assert!(bytes[100..].iter().all(|&b| b == 7));
        disk.truncate("f", 100).unwrap();
        disk.sync("f").unwrap();
    }
    // The write spans 100..2100; a tear keeps nothing or ends at 512, 1024, 1536 or 2048, and
    // a crash that keeps the write whole leaves 2100.
    let expected: std::collections::BTreeSet<usize> = [100, 512, 1024, 1536, 2048, 2100].into();
    assert_eq!(lengths, expected);
}

#[test]
fn tear_points_at_any_byte() {
    let mut rng = SimRng::new(5);
    let mut seen = [false; 10];
    for _ in 0..1_000 {
        let kept = tear_point(3, 10, 1, &mut rng);
        assert!(kept < 10);
        seen[kept as usize] = true;
    }
    assert_eq!(seen, [true; 10]);
    assert_eq!(tear_point(0, 4096, 4096, &mut rng), 0);
}

#[test]
fn zeroed_tails_keep_the_length_but_not_the_data() {
    let config = DiskConfig {
        zeroed_tail: 1.0,
        ..DiskConfig::default()
    };
    let mut disk = disk(config);
    disk.create("f").unwrap();
    let mut n_zeroed = 0;
    for _ in 0..100 {
        disk.append("f", b"xyz").unwrap();
        let lost = disk.crash();
        let bytes = disk.read_all("f").unwrap();
        assert_eq!(bytes.len(), 3);
        if lost > 0 {
            assert_eq!(bytes, [0, 0, 0]);
            n_zeroed += 1;
        } else {
            assert_eq!(bytes, b"xyz");
        }
        disk.truncate("f", 0).unwrap();
        disk.sync("f").unwrap();
    }
    assert!(n_zeroed > 20 && n_zeroed < 80, "{n_zeroed}");
    assert_eq!(disk.stats().zeroed_tails, n_zeroed);
}

#[test]
fn bit_flips_show_only_on_the_media() {
    let config = DiskConfig {
        bit_flip: 1.0,
        ..DiskConfig::default()
    };
    let mut disk = disk(config);
    disk.create("f").unwrap();
    disk.append("f", &[0; 64]).unwrap();
    disk.sync("f").unwrap();
    assert_eq!(
        disk.read_all("f").unwrap(),
        [0; 64],
        "the cache holds what was written"
    );
    disk.crash();
    let bytes = disk.read_all("f").unwrap();
    let n_ones: u32 = bytes.iter().map(|b| b.count_ones()).sum();
    assert_eq!(n_ones, 1);
}

#[test]
fn misdirected_writes_land_elsewhere_and_leave_the_target_alone() {
    let config = DiskConfig {
        sector_size: 4,
        ..DiskConfig::default()
    };
    let mut disk = disk(config);
    disk.create("f").unwrap();
    disk.append("f", b"AAAABBBBCCCC").unwrap();
    disk.sync("f").unwrap();
    disk.config.misdirect = 1.0;
    disk.write_at("f", 8, b"DDDD").unwrap();
    disk.sync("f").unwrap();
    assert_eq!(disk.read_all("f").unwrap(), b"AAAABBBBDDDD");
    disk.crash();
    let bytes = disk.read_all("f").unwrap();
    assert_eq!(&bytes[8..], b"CCCC");
    assert!(
        bytes == b"DDDDBBBBCCCC" || bytes == b"AAAADDDDCCCC",
        "{bytes:?}"
    );
    assert_eq!(disk.stats().misdirected, 1);
}

#[test]
fn a_failed_sync_poisons_until_reopen() {
    let config = DiskConfig {
        sync_fail: 1.0,
        ..DiskConfig::default()
    };
    let mut disk = disk(config);
    disk.create("f").unwrap();
    disk.append("f", b"x").unwrap();
    let error = disk.sync("f").unwrap_err();
    assert_eq!(error.kind(), DiskErrorKind::SyncFailed);
    assert_eq!(
        disk.append("f", b"y").unwrap_err().kind(),
        DiskErrorKind::Poisoned
    );
    assert_eq!(
        disk.read_all("f").unwrap_err().kind(),
        DiskErrorKind::Poisoned
    );
    assert_eq!(disk.sync("f").unwrap_err().kind(), DiskErrorKind::Poisoned);
    disk.reopen("f").unwrap();
    let bytes = disk.read_all("f").unwrap();
    assert!(bytes.is_empty() || bytes == b"x");
}

#[test]
fn a_full_disk_refuses_whole_writes() {
    let config = DiskConfig {
        capacity: 10,
        ..DiskConfig::default()
    };
    let mut disk = disk(config);
    disk.create("a").unwrap();
    disk.create("b").unwrap();
    disk.append("a", &[1; 6]).unwrap();
    let error = disk.append("b", &[2; 5]).unwrap_err();
    assert_eq!(error.kind(), DiskErrorKind::NoSpace);
    assert_eq!(disk.len("b").unwrap(), 0);
    disk.append("b", &[2; 4]).unwrap();
    assert_eq!(disk.used(), 10);
    disk.remove("a").unwrap();
    assert_eq!(disk.used(), 4);
    disk.append("b", &[3; 6]).unwrap();
    assert_eq!(disk.stats().no_space, 1);
}

#[test]
fn names_are_durable_and_checked() {
    let mut disk = disk(DiskConfig::default());
    assert_eq!(
        disk.create("").unwrap_err().kind(),
        DiskErrorKind::InvalidName
    );
    assert_eq!(
        disk.create("a/b").unwrap_err().kind(),
        DiskErrorKind::InvalidName
    );
    disk.create("tmp").unwrap();
    assert_eq!(
        disk.create("tmp").unwrap_err().kind(),
        DiskErrorKind::AlreadyExists
    );
    disk.append("tmp", b"v1").unwrap();
    disk.sync("tmp").unwrap();
    disk.rename("tmp", "current").unwrap();
    disk.crash();
    assert_eq!(disk.list(), ["current"]);
    assert_eq!(disk.read_all("current").unwrap(), b"v1");
    let mut buf = [0; 4];
    assert_eq!(disk.read_at("current", 1, &mut buf).unwrap(), 1);
    let error = disk.read_exact_at("current", 1, &mut buf).unwrap_err();
    assert_eq!(error.kind(), DiskErrorKind::UnexpectedEof);
    assert_eq!(
        disk.len("gone").unwrap_err().kind(),
        DiskErrorKind::NotFound
    );
}

#[test]
fn huge_offsets_and_lengths_are_a_full_disk_not_a_crash() {
    let mut disk = disk(DiskConfig::default());
    disk.create("f").unwrap();
    disk.append("f", b"kept").unwrap();
    for offset in [u64::MAX - 3, 1 << 50, MAX_FILE_LEN] {
        let error = disk.write_at("f", offset, b"abcdefgh").unwrap_err();
        assert_eq!(error.kind(), DiskErrorKind::NoSpace, "offset {offset}");
    }
    let error = disk.truncate("f", 1 << 50).unwrap_err();
    assert_eq!(error.kind(), DiskErrorKind::NoSpace);
    // Nothing already written was lost to the refused calls.
    assert_eq!(disk.read_all("f").unwrap(), b"kept");
}
