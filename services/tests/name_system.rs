//! Our IDENTITY, NAMESTORE and GNS clients against the C services of one real GNUnet 0.19.3
//! peer (with GNS and ZONEMASTER running), cross-checked with `gnunet-identity`,
//! `gnunet-namestore`, `gnunet-gns` and the namestore's own database.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gnunet_service::client::{BlockingClient, ClientError};
use gnunet_service::config::Config;
use gnunet_service::crypto::identity_key::{KeyType, PrivateKey, PublicKey};
use gnunet_service::error_code::ErrorCode;
use gnunet_service::gns::{GnsClient, LocalOptions, LookupSession, Query, ZoneName};
use gnunet_service::gnsrecord::{self, Flags, Record, TYPE_ANY, TYPE_EDKEY, TYPE_PKEY, TYPE_PLACE};
use gnunet_service::identity::{EgoEvent, IdentityClient, IdentityMonitor, Monitor};
use gnunet_service::namestore::msg::{RecordSet, RecordStore, RecordStoreResponse};
use gnunet_service::namestore::{
    LabelError, NamestoreClient, NamestoreError, StoreError, StoreSession,
};
use gnunet_service::server::{
    ConnId, Ctx, DisconnectReason, Handler, Limits, LinkId, Runtime, Verdict,
};
use gnunet_service::wire::RawMessage;
use testnet::{Peer, Testnet, Topology};

/// Patience for one answer of a local service.
const T: Duration = Duration::from_secs(20);

/// `program -c <peer config> args…`, killed after 30 s; its stdout. Panics unless it exits 0.
fn tool(peer: &Peer, program: &str, args: &[&str]) -> String {
    let out = Command::new("timeout")
        .arg("30")
        .arg(program)
        .arg("-c")
        .arg(peer.config_path())
        .args(args)
        .output()
        .expect("tool runs");
    assert!(out.status.success(), "{program} {args:?} failed: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The public key `gnunet-identity -d` prints for ego `name`.
fn listed_key(peer: &Peer, name: &str) -> String {
    let listed = tool(peer, "gnunet-identity", &["-d"]);
    let line = listed
        .lines()
        .find(|l| l.starts_with(&format!("{name} - ")))
        .unwrap_or_else(|| panic!("gnunet-identity -d lacks {name}: {listed}"));
    line.split(" - ").nth(1).expect("key column").to_string()
}

/// A PLACE-like record: 68 bytes of header and `relays` 32-byte relays, public.
fn place_record(relays: usize) -> Record {
    let data = (0..68 + 32 * relays).map(|i| (i * 7) as u8).collect();
    Record::relative(TYPE_PLACE, data, Duration::from_secs(3600), Flags::NONE)
}

#[test]
fn identity_namestore_and_gns_of_one_peer() {
    let net = Testnet::builder()
        .peers(1)
        .topology(Topology::Line)
        .lean(false)
        .start()
        .expect("one peer");
    let peer = net.peer(0);
    let config = Config::load(Some(peer.config_path())).expect("peer config loads");

    identity_monitor_follows_changes(peer, &config);
    let zone = stored_records_are_what_we_sent(peer, &config);
    gns_resolves_them(peer, &config, &zone);
    sessions_drive_the_services_over_runtime_links(peer, &config);
}

fn next(m: &mut IdentityMonitor) -> EgoEvent {
    m.next_event(T).expect("an ego event")
}

fn identity_monitor_follows_changes(peer: &Peer, config: &Config) {
    let mut monitor = IdentityMonitor::connect(config).expect("monitor");
    // A fresh peer's egos (none, or what GNUnet made itself), then the end of the list.
    let mut initial = Vec::new();
    loop {
        match next(&mut monitor) {
            EgoEvent::ListComplete => break,
            EgoEvent::Added(ego) => initial.push(ego),
            other => panic!("unexpected before the list ends: {other:?}"),
        }
    }

    let mut client = IdentityClient::connect(config).expect("identity");
    let ours = client.create("Mon-Ecdsa", KeyType::Ecdsa).expect("create");
    tool(peer, "gnunet-identity", &["-C", "mon-eddsa", "-X"]);
    client.rename("mon-ecdsa", "Mon-Renamed").expect("rename");
    tool(peer, "gnunet-identity", &["-D", "mon-eddsa"]);

    assert_eq!(next(&mut monitor), EgoEvent::Added(ours.clone()));
    let EgoEvent::Added(eddsa) = next(&mut monitor) else {
        panic!("the EdDSA ego should come next");
    };
    assert_eq!(eddsa.name, "mon-eddsa");
    assert_eq!(eddsa.key.key_type(), KeyType::Eddsa);
    let renamed = EgoEvent::Renamed {
        ego: gnunet_service::identity::Ego {
            name: "mon-renamed".into(),
            key: ours.key.clone(),
        },
        old_name: "mon-ecdsa".into(),
    };
    assert_eq!(next(&mut monitor), renamed);
    assert_eq!(next(&mut monitor), EgoEvent::Deleted(eddsa.clone()));
    assert_eq!(
        listed_key(peer, "mon-renamed"),
        ours.key.public_key().to_string()
    );

    // A reconnect with nothing changed reports nothing but the end of the list.
    monitor.reconnect(config).expect("reconnect");
    assert_eq!(next(&mut monitor), EgoEvent::ListComplete);

    // Changes while the monitor is away come as changes, not as a new list.
    monitor.reconnect(config).expect("reconnect");
    let later = client.create("mon-later", KeyType::Eddsa).expect("create");
    client.delete("mon-renamed").expect("delete");
    monitor.reconnect(config).expect("reconnect");
    let mut events = Vec::new();
    loop {
        let e = next(&mut monitor);
        let done = e == EgoEvent::ListComplete;
        events.push(e);
        if done {
            break;
        }
    }
    let gone = gnunet_service::identity::Ego {
        name: "mon-renamed".into(),
        key: ours.key,
    };
    assert_eq!(
        events,
        [
            EgoEvent::Added(later),
            EgoEvent::Deleted(gone),
            EgoEvent::ListComplete
        ]
    );
    assert_eq!(monitor.monitor().egos().count(), initial.len() + 1);
    assert!(matches!(
        client.delete("no-such-ego"),
        Err(gnunet_service::identity::IdentityError::Code(200))
    ));
}

/// Sends one RECORD_STORE as built, without the client's checks; the service's error code.
fn raw_store(config: &Config, zone: &PrivateKey, label: &str, records: Vec<Record>) -> ErrorCode {
    let mut conn = BlockingClient::connect(config, "namestore", T).expect("namestore");
    let m = RecordStore {
        r_id: 77,
        zone: zone.clone(),
        sets: vec![RecordSet::new(label, records).expect("fits")],
    };
    let answer: RecordStoreResponse = conn.request(&m, T).expect("answer");
    assert_eq!(answer.r_id, 77);
    answer.ec
}

/// The serialized records NAMESTORE's sqlite database holds under `label`, in hex.
fn stored_hex(peer: &Peer, label: &str) -> String {
    let db = peer.data_home().join("namestore/sqlite.db");
    let out = Command::new("sqlite3")
        .arg(&db)
        .arg(format!(
            "select hex(record_data) from ns098records where label = '{label}'"
        ))
        .output()
        .expect("sqlite3 runs");
    assert!(out.status.success(), "sqlite3: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The zone the records went into.
struct Zone {
    key: PrivateKey,
    nym: PublicKey,
    place: Record,
}

fn stored_records_are_what_we_sent(peer: &Peer, config: &Config) -> Zone {
    let mut identity = IdentityClient::connect(config).expect("identity");
    let zone = identity.create("zone", KeyType::Ecdsa).expect("zone ego");
    let nym = identity.create("nym", KeyType::Ecdsa).expect("nym ego");
    let nym_pub = nym.key.public_key();
    let mut ns = NamestoreClient::connect(config, T).expect("namestore");

    let (t, data) = gnsrecord::delegation_to(&nym_pub);
    assert_eq!(t, TYPE_PKEY);
    let pkey = Record::relative(TYPE_PKEY, data, Duration::from_secs(3600), Flags::NONE);
    ns.store(&zone.key, "nym", vec![pkey.clone()])
        .expect("PKEY stored");
    let place = place_record(3);
    ns.store(&zone.key, "place", vec![place.clone()])
        .expect("PLACE stored");

    // What gnunet-namestore shows: the PKEY as its key string, public, relative, and marked
    // critical by NAMESTORE; the PLACE record it cannot print.
    let shown = tool(peer, "gnunet-namestore", &["-D", "-z", "zone", "-r"]);
    let nym_line = format!("  PKEY 3600000000 [prC] {nym_pub}");
    assert!(
        shown.contains(&format!("nym.zone:\n{nym_line}\n")),
        "{shown}"
    );
    let plain = tool(
        peer,
        "gnunet-namestore",
        &["-D", "-z", "zone", "-n", "place"],
    );
    assert_eq!(
        plain,
        "place.zone:\n\tCorrupt or unsupported record of type 65542\n"
    );
    // The bytes NAMESTORE keeps: ours, with the CRITICAL flag it adds to delegations.
    let mut critical = pkey.clone();
    critical.flags = critical.flags | Flags::CRITICAL;
    assert_eq!(
        stored_hex(peer, "nym"),
        hex(&gnsrecord::serialize(std::slice::from_ref(&critical)).unwrap())
    );
    assert_eq!(
        stored_hex(peer, "place"),
        hex(&gnsrecord::serialize(std::slice::from_ref(&place)).unwrap())
    );

    // Read back with RECORD_LOOKUP: what NAMESTORE keeps, private records included; a label
    // that holds nothing gives nothing.
    assert_eq!(
        ns.lookup(&zone.key, "nym").expect("lookup"),
        vec![critical.clone()]
    );
    assert_eq!(
        ns.lookup(&zone.key, "place").expect("lookup"),
        vec![place.clone()]
    );
    let mut private = place.clone();
    private.flags = private.flags | Flags::PRIVATE;
    ns.store(&zone.key, "hidden", vec![private.clone()])
        .expect("private PLACE stored");
    assert_eq!(
        ns.lookup(&zone.key, "hidden").expect("lookup"),
        vec![private]
    );
    assert_eq!(ns.lookup(&zone.key, "nothing").expect("lookup"), vec![]);
    assert!(matches!(
        ns.lookup(&zone.key, "a.b"),
        Err(NamestoreError::Lookup(_))
    ));

    // A dot is refused before asking; NAMESTORE itself refuses it with 5015.
    assert!(matches!(
        ns.store(&zone.key, "home.host", vec![place.clone()]),
        Err(NamestoreError::Store(StoreError::Label(LabelError::Dot(_))))
    ));
    let ec = raw_store(config, &zone.key, "home.host", vec![place.clone()]);
    assert_eq!(ec, ErrorCode::NAMESTORE_LABEL_INVALID);
    assert_eq!(ec.to_string(), "Label invalid or malformed.");
    // The empty label is refused before asking, though NAMESTORE takes it (see below: GNS
    // never finds it).
    assert!(matches!(
        ns.store(&zone.key, "", vec![place.clone()]),
        Err(NamestoreError::Store(StoreError::Label(LabelError::Empty)))
    ));
    assert_eq!(
        raw_store(config, &zone.key, "", vec![place.clone()]),
        ErrorCode::NONE
    );

    // A delegation next to another record under one label: 5008 with its text.
    let both = ns.store(&zone.key, "mixed", vec![pkey, place.clone()]);
    match both {
        Err(NamestoreError::Refused(ec)) => {
            assert_eq!(ec, ErrorCode::NAMESTORE_RECORD_DATA_INVALID);
            assert_eq!(ec.to_string(), "Record data invalid.");
        }
        other => panic!("PKEY next to PLACE should be refused: {other:?}"),
    }
    assert_eq!(stored_hex(peer, "mixed"), "");

    Zone {
        key: zone.key,
        nym: nym_pub,
        place,
    }
}

/// Looks `query` up until it has records or `within` passed; the records and the time taken.
fn poll_lookup(gns: &mut GnsClient, query: &Query, within: Duration) -> (Vec<Record>, Duration) {
    let t0 = Instant::now();
    loop {
        let records = gns.lookup(query, within).expect("lookup answered");
        if !records.is_empty() || t0.elapsed() >= within {
            return (records, t0.elapsed());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn gns_resolves_them(peer: &Peer, config: &Config, zone: &Zone) {
    let zone_pub = zone.key.public_key();
    let mut gns = GnsClient::connect(config, T).expect("gns");

    // ZONEMASTER publishes what NAMESTORE stored; poll until GNS has it.
    let (records, took) = poll_lookup(&mut gns, &Query::new(zone_pub, "place", TYPE_PLACE), T);
    eprintln!("[name_system] PLACE resolvable after {took:?}");
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].record_type, TYPE_PLACE);
    assert_eq!(records[0].data, zone.place.data);
    assert!(!records[0].flags.contains(Flags::PRIVATE));

    // The delegation, as we see it and as gnunet-gns prints it.
    let (records, _) = poll_lookup(&mut gns, &Query::new(zone_pub, "nym", TYPE_PKEY), T);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(
        gnsrecord::delegated_zone(records[0].record_type, &records[0].data),
        Some(zone.nym)
    );
    let printed = tool(peer, "gnunet-gns", &["-u", "nym.zone", "-t", "PKEY"]);
    assert_eq!(
        printed,
        format!("nym.zone:\nGot `PKEY' record: {}\n", zone.nym)
    );

    // Names relative to the ego's zone: `.gnu` is stripped, a zone key names the zone.
    for name in ["place.gnu".to_string(), format!("place.{zone_pub}")] {
        let other_ego = PublicKey::Eddsa(gnunet_service::crypto::eddsa::PublicKey([1; 32]));
        let base = if name.ends_with(".gnu") {
            zone_pub
        } else {
            other_ego
        };
        let z = ZoneName::relative_to(&base, &name);
        assert_eq!((z.zone, z.name.as_str()), (zone_pub, "place"), "{name}");
        let records = gns.lookup(&z.query(TYPE_PLACE), T).expect("lookup");
        assert_eq!(records.len(), 1, "{name}: {records:?}");
        assert_eq!(records[0].data, zone.place.data);
    }

    // NAMESTORE stored a set under the empty label above (answering success), but GNS does
    // not reach it: an empty name finds nothing. Hence the client refuses empty labels.
    let empty = gns
        .lookup(
            &Query::new(zone_pub, "", TYPE_PLACE).with_options(LocalOptions::LocalMaster),
            T,
        )
        .expect("lookup");
    assert!(empty.is_empty(), "{empty:?}");
    // No such label: no records (NXDOMAIN), for any type; gnunet-gns agrees.
    let t0 = Instant::now();
    let none = gns
        .lookup(
            &Query::new(zone_pub, "missing", TYPE_ANY).with_options(LocalOptions::LocalMaster),
            T,
        )
        .expect("lookup");
    assert!(none.is_empty(), "{none:?}");
    eprintln!("[name_system] NXDOMAIN after {:?}", t0.elapsed());
    let printed = tool(peer, "gnunet-gns", &["-u", "missing.zone", "-t", "ANY"]);
    assert_eq!(printed.trim(), "No results.");
    // With default options the resolver asks the DHT even in a local zone and sets no time
    // limit there: a missing name gets no answer at all (callers need their own timeout).
    let waited = gns.lookup(
        &Query::new(zone_pub, "missing", TYPE_ANY),
        Duration::from_secs(2),
    );
    assert!(
        matches!(
            waited,
            Err(gnunet_service::gns::GnsError::Client(ClientError::Timeout(
                _
            )))
        ),
        "{waited:?}"
    );
    // Another type asked of a delegation: the resolver follows it into the nym's zone, whose
    // apex holds nothing (NoDht: that zone is local here).
    let none = gns
        .lookup(
            &Query::new(zone_pub, "nym", TYPE_EDKEY).with_options(LocalOptions::NoDht),
            T,
        )
        .expect("lookup");
    assert!(none.is_empty(), "{none:?}");
}

/// What the link handler saw, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    IdentityDown,
    Ego(EgoEvent),
    Stored(Result<(), ErrorCode>),
    Resolved(Vec<u8>),
}

/// The three sessions on runtime links, as the social service drives them: IDENTITY's monitor
/// whose new ego `linkzone` gets a PLACE record through NAMESTORE, then looked up through GNS.
struct Driver {
    identity: LinkId,
    namestore: LinkId,
    gns: LinkId,
    monitor: Monitor,
    stores: StoreSession,
    lookups: LookupSession,
    zone: Option<PublicKey>,
    place: Record,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Driver {
    fn log(&self, s: Seen) {
        self.seen.lock().unwrap().push(s);
    }

    fn lookup(&mut self, ctx: &mut Ctx<()>) {
        let Some(zone) = self.zone else { return };
        let z = ZoneName::relative_to(&zone, "linkplace.gnu");
        let request = self.lookups.lookup(&z.query(TYPE_PLACE)).unwrap();
        // Down is fine: `resend` has it for the next connection.
        let _ = ctx.link_send(self.gns, request.message);
    }
}

impl Handler for Driver {
    type Timer = ();

    fn message(&mut self, _ctx: &mut Ctx<()>, _conn: ConnId, m: RawMessage) -> Verdict {
        Verdict::unknown(&m)
    }

    fn link_up(&mut self, ctx: &mut Ctx<()>, link: LinkId) {
        let resend: Vec<Vec<u8>> = if link == self.identity {
            vec![self.monitor.connected()]
        } else if link == self.namestore {
            self.stores.resend().map(<[u8]>::to_vec).collect()
        } else {
            self.lookups.resend().map(<[u8]>::to_vec).collect()
        };
        for m in resend {
            let _ = ctx.link_send(link, m);
        }
    }

    fn link_message(&mut self, ctx: &mut Ctx<()>, link: LinkId, m: RawMessage) -> Verdict {
        if link == self.identity {
            for event in self.monitor.handle_message(m.bytes()).unwrap() {
                if let EgoEvent::Added(ego) = &event {
                    if ego.name == "linkzone" {
                        self.zone = Some(ego.key.public_key());
                        let request = self
                            .stores
                            .store(&ego.key, "linkplace", vec![self.place.clone()])
                            .unwrap();
                        let _ = ctx.link_send(self.namestore, request.message);
                    }
                }
                self.log(Seen::Ego(event));
            }
        } else if link == self.namestore {
            if let Some(outcome) = self.stores.handle_message(m.bytes()).unwrap() {
                self.log(Seen::Stored(outcome.result));
                self.lookup(ctx);
            }
        } else if let Some(answer) = self.lookups.handle_message(m.bytes()).unwrap() {
            match answer.records.first() {
                Some(r) => {
                    self.log(Seen::Resolved(r.data.clone()));
                    ctx.stop();
                }
                // Not published yet: ask again shortly.
                None => {
                    ctx.set_timer(Duration::from_millis(50), ());
                }
            }
        }
        Verdict::Continue
    }

    fn timer(&mut self, ctx: &mut Ctx<()>, _: ()) {
        self.lookup(ctx);
    }

    fn link_down(&mut self, _ctx: &mut Ctx<()>, link: LinkId, _reason: &DisconnectReason) {
        if link == self.identity {
            self.monitor.disconnected();
            self.log(Seen::IdentityDown);
        }
    }
}

fn sessions_drive_the_services_over_runtime_links(peer: &Peer, config: &Config) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let place = place_record(1);
    let mut rt = Runtime::new(
        vec![],
        Driver {
            identity: LinkId(0),
            namestore: LinkId(0),
            gns: LinkId(0),
            monitor: Monitor::default(),
            stores: StoreSession::default(),
            lookups: LookupSession::default(),
            zone: None,
            place: place.clone(),
            seen: seen.clone(),
        },
        Limits::default(),
    )
    .expect("runtime");
    rt.with_ctx(|d, ctx| {
        let socket = |name| config.unix_path(name).expect("UNIXPATH");
        d.identity = ctx.open_link(&socket("identity"), "identity");
        d.namestore = ctx.open_link(&socket("namestore"), "namestore");
        d.gns = ctx.open_link(&socket("gns"), "gns");
    });
    let stop = rt.stop_handle();
    let thread = std::thread::spawn(move || rt.run().expect("runtime runs"));
    let wait_for = |what: &str, pred: &dyn Fn(&[Seen]) -> bool| {
        let deadline = Instant::now() + T;
        while !pred(&seen.lock().unwrap()) {
            if Instant::now() > deadline {
                stop.stop();
                panic!("{what}: {:?}", seen.lock().unwrap());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let completes = |s: &[Seen]| {
        s.iter()
            .filter(|e| **e == Seen::Ego(EgoEvent::ListComplete))
            .count()
    };
    wait_for("first listing", &|s| completes(s) == 1);
    let listed = seen.lock().unwrap().len();

    // IDENTITY restarts (ARM starts it again when the link reconnects): the egos are listed
    // anew, and the monitor reports nothing but the end of the list.
    peer.arm_stop_service("identity")
        .expect("gnunet-arm -k identity");
    wait_for("relisting", &|s| completes(s) == 2);
    assert_eq!(
        seen.lock().unwrap()[listed..],
        [Seen::IdentityDown, Seen::Ego(EgoEvent::ListComplete)]
    );

    let ego = IdentityClient::connect(config)
        .expect("identity")
        .create("linkzone", KeyType::Ecdsa)
        .expect("create");
    thread.join().expect("runtime thread");
    let tail = seen.lock().unwrap()[listed + 2..].to_vec();
    assert_eq!(
        tail,
        [
            Seen::Ego(EgoEvent::Added(ego)),
            Seen::Stored(Ok(())),
            Seen::Resolved(place.data),
            // The runtime stopping closes the links.
            Seen::IdentityDown,
        ]
    );
}
