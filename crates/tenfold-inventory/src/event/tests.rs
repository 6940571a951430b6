use super::*;

fn samples() -> Vec<Event> {
    let at = Duration::from_millis(1_500);
    let key = RequestKey(0x0123_4567_89AB_CDEF_FEDC_BA98_7654_3210);
    let reservation = ReservationId(42);
    let two_lines = Lines::normalize(&[Line::new(ItemId(9), 2), Line::new(ItemId(3), 1)]);
    let one_line = Lines::normalize(&[Line::new(ItemId(3), 1)]);
    let mut events = vec![
        Event::Stocked {
            at,
            item: ItemId(3),
            units: u64::MAX,
            shard: 7,
        },
        Event::Moved {
            at,
            item: ItemId(3),
            units: 5,
            from: 1,
            to: 255,
        },
        Event::Confirmed {
            at,
            key,
            reservation,
        },
        Event::Released {
            at,
            key,
            reservation,
        },
        Event::Expired {
            at: Duration::from_nanos(u64::MAX),
            reservation,
        },
    ];
    for lines in [two_lines, one_line].into_iter().flatten() {
        let expires_at = at + Duration::from_secs(30);
        events.push(Event::Reserved {
            at,
            key,
            reservation,
            lines,
            expires_at,
        });
    }
    let refusals = [
        Refusal::OutOfStock { item: ItemId(3) },
        Refusal::UnknownItem { item: ItemId(4) },
        Refusal::InvalidOrder,
        Refusal::UnknownReservation,
        Refusal::Expired,
        Refusal::AlreadyConfirmed,
        Refusal::AlreadyReleased,
    ];
    for (index, refusal) in refusals.into_iter().enumerate() {
        let reservation = (index % 2 == 0).then_some(reservation);
        events.push(Event::Refused {
            at,
            key,
            reservation,
            refusal,
        });
    }
    events
}

#[test]
fn every_kind_of_event_round_trips() {
    let events = samples();
    assert_eq!(events.len(), 14);
    let mut bytes = Vec::new();
    for event in &events {
        event.encode(&mut bytes);
    }
    let mut decoded = Vec::new();
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        let (event, used) = Event::decode(rest).expect("a valid encoding decodes");
        decoded.push(event);
        rest = &rest[used..];
    }
    assert_eq!(decoded, events);
}

#[test]
fn every_cut_of_an_encoding_is_truncated_not_a_panic() {
    for event in samples() {
        let mut bytes = Vec::new();
        event.encode(&mut bytes);
        for len in 0..bytes.len() {
            let error = Event::decode(&bytes[..len]).expect_err("a cut encoding is refused");
            assert_eq!(
                error.kind(),
                DecodeErrorKind::Truncated,
                "{event:?} cut at {len}"
            );
        }
    }
}

#[test]
fn bytes_no_encoder_writes_are_refused() {
    let mut unknown_tag = vec![0u8; 40];
    unknown_tag[0] = 99;
    assert_eq!(
        Event::decode(&unknown_tag).map_err(|e| e.kind()),
        Err(DecodeErrorKind::UnknownTag(99))
    );

    let at = Duration::ZERO;
    let key = RequestKey(1);
    let refused = Event::Refused {
        at,
        key,
        reservation: None,
        refusal: Refusal::Expired,
    };
    let mut bytes = Vec::new();
    refused.encode(&mut bytes);
    let code_at = 1 + 8 + 16 + 1 + 8;
    bytes[code_at] = 0;
    assert_eq!(
        Event::decode(&bytes).map_err(|e| e.kind()),
        Err(DecodeErrorKind::UnknownRefusal(0))
    );
    bytes[code_at - 9] = 2;
    assert_eq!(
        Event::decode(&bytes).map_err(|e| e.kind()),
        Err(DecodeErrorKind::InvalidFlag(2))
    );

    let lines = Lines::normalize(&[Line::new(ItemId(1), 1), Line::new(ItemId(2), 1)]);
    let lines = lines.expect("two distinct lines are valid");
    let reserved = Event::Reserved {
        at,
        key,
        reservation: ReservationId(0),
        lines,
        expires_at: at,
    };
    let mut bytes = Vec::new();
    reserved.encode(&mut bytes);
    let first_item = 1 + 8 + 16 + 8 + 8 + 1;
    bytes[first_item] = 2;
    assert_eq!(
        Event::decode(&bytes).map_err(|e| e.kind()),
        Err(DecodeErrorKind::InvalidLines)
    );
    bytes[first_item - 1] = 0;
    assert_eq!(
        Event::decode(&bytes).map_err(|e| e.kind()),
        Err(DecodeErrorKind::InvalidLines)
    );
}

#[test]
fn decode_errors_read_as_lowercase_sentences() {
    let error = Event::decode(&[3, 0]).expect_err("two bytes are not an event");
    assert_eq!(
        error.to_string(),
        "invalid event at byte 1: the input ends inside the event"
    );
}

/// Found by the `inventory_journal` fuzz target: a refusal with no reservation decoded even
/// when the unused reservation field held bytes, so two byte strings meant one event.
#[test]
fn unused_fields_must_be_zero() {
    let event = Event::Refused {
        at: Duration::from_secs(3),
        key: RequestKey(9),
        reservation: None,
        refusal: Refusal::UnknownReservation,
    };
    let mut bytes = Vec::new();
    event.encode(&mut bytes);
    assert_eq!(Event::decode(&bytes).map(|(decoded, _)| decoded), Ok(event));
    // Tag, time, key, flag, then the unused reservation; then the code and the unused item.
    let reservation_at = 1 + 8 + 16 + 1;
    let item_at = reservation_at + 8 + 1;
    for at in [reservation_at, item_at] {
        let mut changed = bytes.clone();
        changed[at] = 1;
        assert!(
            Event::decode(&changed).is_err(),
            "a stray byte at {at} was accepted"
        );
    }
}
