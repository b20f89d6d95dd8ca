//! `zonecheck explain PATH SRC DST SERVICE [--bundle DIR]`: one packet through the policy,
//! the lowered rules and the files of a bundle.

use assert_cmd::Command;

const FIXTURE: &str = "tests/fixtures/report/kommune.zc";

fn zonecheck() -> Command {
    let mut c = Command::cargo_bin("zonecheck").expect("binary");
    c.env("NO_COLOR", "1").env("ZONECHECK_TODAY", "2026-11-01");
    c
}

fn stdout(c: &mut Command, code: i32) -> String {
    String::from_utf8(c.assert().code(code).get_output().stdout.clone()).expect("UTF-8")
}

#[test]
fn a_permitted_packet_names_its_flow_classes_devices_and_rules() {
    let dir = std::env::temp_dir().join(format!("zonecheck-explain-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    zonecheck().args(["compile", FIXTURE, "-o"]).arg(&dir).assert().code(0);

    let text = stdout(zonecheck().args(["explain", FIXTURE, "10.20.10.11", "83.118.128.10", "tcp/25"]), 0);
    assert!(text.contains("from system msh in zone sikker-srv"), "{text}");
    assert!(text.contains("to   system nhn-edi in zone helsenett"), "{text}");
    assert!(text.contains("flow `msh -> nhn-edi : smtp` \"PLO-meldinger <ebXML>\" (kommune.zc:35)"), "{text}");
    assert!(text.contains("classes towards 83.118.128.10: helse (confined)"), "{text}");
    assert!(text.contains("firewall fw-kjerne: forward eth1 -> eth0"), "{text}");
    assert!(text.contains("linux host msh: output"), "{text}");

    // With the bundle: the rule in each file that accepts it.
    let text =
        stdout(zonecheck().args(["explain", FIXTURE, "10.20.10.11", "83.118.128.10", "smtp", "--bundle"]).arg(&dir), 0);
    assert!(text.contains("firewall/fw-kjerne.nft: accepts"), "{text}");
    assert!(text.contains("chain zc_pair_1: line "), "{text}");
    assert!(text.contains("host/msh.nft: accepts"), "{text}");

    // A file that drops it says so, with the deciding rule.
    let nft = dir.join("firewall/fw-kjerne.nft");
    let original = std::fs::read_to_string(&nft).expect("nft");
    let broken = original.replacen("\"eth1\" . \"eth0\" : jump zc_pair_1,", "", 1);
    assert_ne!(original, broken);
    std::fs::write(&nft, broken).expect("write");
    let text = stdout(
        zonecheck().args(["explain", FIXTURE, "10.20.10.11", "83.118.128.10", "tcp/25", "--bundle"]).arg(&dir),
        0,
    );
    assert!(text.contains("firewall/fw-kjerne.nft: DROPS"), "{text}");
    assert!(text.contains("chain zc_forward: line ") && text.contains("counter drop"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn classes_stop_where_a_flow_carries_nothing_and_unpermitted_packets_exit_1() {
    let text = stdout(zonecheck().args(["explain", FIXTURE, "10.20.11.11", "10.20.33.30", "ipp"]), 0);
    assert!(text.contains("classes towards 10.20.33.30: nothing"), "{text}");
    let text = stdout(zonecheck().args(["explain", FIXTURE, "10.20.11.11", "10.20.33.30", "tcp/22"]), 1);
    assert!(text.contains("not permitted"), "{text}");
    // The zone's undeclared space, and an answer packet is not a connection.
    let text = stdout(zonecheck().args(["explain", FIXTURE, "10.20.33.30", "10.20.11.11", "ipp"]), 1);
    assert!(text.contains("not permitted"), "{text}");
    let text = stdout(zonecheck().args(["explain", FIXTURE, "10.20.40.1", "10.20.11.11", "icmp/echo-request"]), 1);
    assert!(text.contains("zone adm (an address no system declares)"), "{text}");
}

#[test]
fn bad_packets_are_input_errors() {
    for args in [
        ["vda", "epj", "tcp/443"],
        ["10.20.11.11", "fd00::1", "tcp/443"],
        ["10.20.11.11", "10.20.10.10", "tcp/0"],
        ["10.20.11.11", "10.20.10.10", "icmpv6/128"],
        ["10.20.11.11", "10.20.10.10", "sctp/9"],
        ["10.20.11.11", "10.20.10.10", "no-such-service"],
    ] {
        let out = zonecheck().arg("explain").arg(FIXTURE).args(args).assert().code(2).get_output().stderr.clone();
        assert!(String::from_utf8_lossy(&out).contains("zonecheck::explain::invalid-packet"), "{args:?}");
    }
    // Without a service, names keep meaning systems, zones and groups.
    zonecheck().args(["explain", FIXTURE, "vda", "epj"]).assert().code(0);
}
