// Events on every backend: numbering without gaps under concurrent writers, order per aggregate, the audit chain
// against altered and deleted rows, webhook delivery with signature, retry, dead letter and replay, and a
// dispatcher killed in the middle of a batch.
#define BOOST_TEST_MODULE integration_events
#include <boost/test/unit_test.hpp>

#include "http_recorder.h"
#include "process.h"
#include "temp_dir.h"
#include "test_database.h"

#include "keel/db/migrations.h"
#include "keel/events/dispatcher.h"
#include "keel/events/log.h"
#include "keel/events/outbox.h"
#include "keel/kernel/hash.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>

using namespace keel;
using namespace std::chrono_literals;

namespace {

struct Fixture {
    test::TestDatabase database;
    db::Database& db = database.database();
    Fixture() { db::Migrator(db).migrate(); }

    std::string append(const std::string& aggregate, const std::string& type, const std::string& payload) {
        events::Outbox outbox;
        return db.run([&](db::UnitOfWork& uow) {
            return outbox.append(uow, events::Event{type, "test", aggregate, payload, "tester"});
        });
    }

    events::ChainReport verify() { return events::EventLog().verifyChain(db); }

    std::size_t exec(const std::string& sql, const std::string& a = {}, std::optional<std::int64_t> seq = {}) {
        return db.run([&](db::UnitOfWork& uow) {
            db::Statement& s = uow.statement(sql);
            if (!a.empty()) s.bind(a);
            if (seq) s.bind(*seq);
            return s.execute();
        });
    }
};

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

events::SubscriberSettings hook(const std::string& name, const std::string& url) {
    events::SubscriberSettings s;
    s.name = name;
    s.url = url;
    s.secret = "whsec-test";
    s.from_earliest = true;
    s.max_attempts = 3;
    s.backoff_initial = 1000ms;
    s.backoff_max = 4000ms;
    s.timeout = 5000ms;
    return s;
}

Poco::JSON::Object::Ptr parse(const std::string& body) {
    return Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
}

std::vector<test::RecordedRequest> accepted(const test::HttpRecorder& server) {
    std::vector<test::RecordedRequest> out;
    for (auto& r : server.requests()) {
        if (r.answered >= 200 && r.answered < 300) out.push_back(r);
    }
    return out;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(event_delivery, Fixture)

BOOST_AUTO_TEST_CASE(numbers_have_no_gaps_and_follow_each_aggregate_under_concurrent_writers) {
    db.run([&](db::UnitOfWork& uow) {
        uow.execute("CREATE TABLE test_aggregate (id VARCHAR(36) NOT NULL PRIMARY KEY, version BIGINT NOT NULL)" +
                    std::string(uow.dialect().tableOptions()));
    });
    const int kAggregates = 5;
    const int kWriters = 4;
    const int kPerWriter = 40;
    for (int a = 0; a < kAggregates; ++a) {
        db.run([&](db::UnitOfWork& uow) {
            uow.statement("INSERT INTO test_aggregate (id, version) VALUES (?, 0)")
                .bindAll("A" + std::to_string(a))
                .execute();
        });
    }
    std::atomic<int> writers_left{kWriters};
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) {
        threads.emplace_back([&, w] {
            events::Outbox outbox;
            for (int i = 0; i < kPerWriter; ++i) {
                const std::string aggregate = "A" + std::to_string((w * 7 + i) % kAggregates);
                db.run([&](db::UnitOfWork& uow) {
                    // The aggregate's row lock orders its changes, as an order's row does for order events.
                    uow.statement("UPDATE test_aggregate SET version = version + 1 WHERE id = ?")
                        .bindAll(aggregate)
                        .execute();
                    db::Statement& s = uow.statement("SELECT version FROM test_aggregate WHERE id = ?");
                    s.bindAll(aggregate).execute();
                    std::int64_t version = 0;
                    while (s.next()) version = s.getInt64(0);
                    outbox.append(uow, events::Event{"test.changed", "test", aggregate,
                                                     "{\"version\":" + std::to_string(version) + "}", "writer"});
                });
            }
            --writers_left;
        });
    }
    // A second node numbering events while they are written, and a consumer following the numbers.
    auto other_node = database.open();
    threads.emplace_back([&] {
        events::EventLog log;
        while (writers_left.load() > 0) log.sequence(*other_node, 7);
    });
    std::vector<events::EventRecord> seen;
    std::thread consumer([&] {
        events::EventLog log;
        std::int64_t cursor = 0;
        for (;;) {
            const bool last_round = writers_left.load() == 0;
            if (last_round) log.sequenceAll(db);
            for (;;) {
                auto page = db.run([&](db::UnitOfWork& uow) {
                    return log.read(uow, events::EventFilter{cursor, 25, {}, {}, {}});
                });
                if (page.empty()) break;
                cursor = page.back().seq;
                for (auto& e : page) seen.push_back(std::move(e));
            }
            if (last_round) break;
        }
    });
    for (auto& t : threads) t.join();
    consumer.join();

    const std::size_t total = static_cast<std::size_t>(kWriters * kPerWriter);
    BOOST_TEST_REQUIRE(seen.size() == total);
    std::set<std::string> ids;
    std::map<std::string, std::int64_t> last_version;
    for (std::size_t i = 0; i < seen.size(); ++i) {
        BOOST_TEST(seen[i].seq == static_cast<std::int64_t>(i + 1));  // read in order, none skipped, none twice
        ids.insert(seen[i].id);
        const std::int64_t version = parse(seen[i].payload)->getValue<Poco::Int64>("version");
        BOOST_TEST(version == last_version[seen[i].aggregate_id] + 1,
                   "aggregate " << seen[i].aggregate_id << " at #" << seen[i].seq);
        last_version[seen[i].aggregate_id] = version;
    }
    BOOST_TEST(ids.size() == total);
    const auto report = verify();
    BOOST_TEST(report.ok, report.problem);
    BOOST_TEST(report.verified == static_cast<std::int64_t>(total));
}

BOOST_AUTO_TEST_CASE(audit_verify_names_the_altered_and_the_removed_event) {
    for (int i = 1; i <= 10; ++i) append("O-1", "order.changed", "{\"step\":" + std::to_string(i) + "}");
    BOOST_TEST(events::EventLog().sequenceAll(db) == 10);
    auto report = verify();
    BOOST_TEST_REQUIRE(report.ok, report.problem);
    BOOST_TEST(report.verified == 10);
    BOOST_TEST(report.head_seq == 10);

    // An edited payload breaks the chain exactly there.
    BOOST_TEST(exec("UPDATE event_outbox SET payload = ? WHERE seq = ?", "{\"step\":40}", 4) == 1u);
    report = verify();
    BOOST_TEST(!report.ok);
    BOOST_TEST(report.first_bad_seq.value_or(0) == 4);
    BOOST_TEST(report.problem.find("does not match its hash") != std::string::npos, report.problem);
    BOOST_TEST(report.verified == 3);
    BOOST_TEST(exec("UPDATE event_outbox SET payload = ? WHERE seq = ?", "{\"step\":4}", 4) == 1u);
    BOOST_TEST(verify().ok);

    // Recomputing the edited event's own hash does not help: the next event no longer follows from it.
    events::EventRecord edited;
    db.run([&](db::UnitOfWork& uow) {
        edited = events::EventLog().read(uow, events::EventFilter{2, 1, {}, {}, {}}).at(0);
    });
    edited.payload = "{\"step\":30}";
    std::string previous;
    db.run([&](db::UnitOfWork& uow) {
        previous = events::EventLog().read(uow, events::EventFilter{1, 1, {}, {}, {}}).at(0).hash;
    });
    const std::string original_payload = "{\"step\":3}";
    const std::string original_hash = edited.hash;
    db.run([&](db::UnitOfWork& uow) {
        uow.statement("UPDATE event_outbox SET payload = ?, hash = ? WHERE seq = 3")
            .bindAll(edited.payload, events::chainHash(previous, edited))
            .execute();
    });
    report = verify();
    BOOST_TEST(!report.ok);
    BOOST_TEST(report.first_bad_seq.value_or(0) == 4);
    db.run([&](db::UnitOfWork& uow) {
        uow.statement("UPDATE event_outbox SET payload = ?, hash = ? WHERE seq = 3")
            .bindAll(original_payload, original_hash)
            .execute();
    });
    BOOST_TEST(verify().ok);

    // The last event deleted: the head still names it.
    BOOST_TEST(exec("DELETE FROM event_outbox WHERE seq = ?", {}, 10) == 1u);
    report = verify();
    BOOST_TEST(!report.ok);
    BOOST_TEST(report.first_bad_seq.value_or(0) == 10);
    BOOST_TEST(report.problem.find("missing") != std::string::npos, report.problem);

    // A deleted event in the middle is named before the missing tail.
    BOOST_TEST(exec("DELETE FROM event_outbox WHERE seq = ?", {}, 6) == 1u);
    report = verify();
    BOOST_TEST(!report.ok);
    BOOST_TEST(report.first_bad_seq.value_or(0) == 6);
    BOOST_TEST(report.problem.find("event #6 is missing") != std::string::npos, report.problem);
}

BOOST_AUTO_TEST_CASE(webhooks_are_signed_retried_with_backoff_dead_lettered_and_replayed) {
    test::HttpRecorder server;
    ManualClock clock(1'800'000'000'000'000);
    auto subscriber = hook("crm", server.url("/hooks/keel?src=test"));
    auto orders_only = hook("orders-only", server.url("/orders"));
    orders_only.types = {"order.*"};
    events::Dispatcher dispatcher(db, {subscriber, orders_only}, "node-a", clock, 30s);

    for (int i = 1; i <= 5; ++i) append("A", "test.changed", "{\"n\":" + std::to_string(i) + "}");
    std::atomic<int> refusals{1};
    server.setResponder([&](const test::RecordedRequest&) {
        if (refusals.fetch_sub(1) > 0) return test::CannedResponse{503, "busy"};
        return test::CannedResponse{200, "{}"};
    });

    auto stats = dispatcher.runOnce();
    BOOST_TEST(stats.sequenced == 5);
    BOOST_TEST(stats.failed == 1);
    BOOST_TEST(stats.filtered == 5);  // orders-only wants none of these
    BOOST_TEST(server.count() == 1u);
    auto status = dispatcher.status();
    BOOST_TEST_REQUIRE(status.size() == 2u);
    BOOST_TEST(status[0].subscriber == "crm");
    BOOST_TEST(status[0].attempts == 1);
    BOOST_TEST(status[0].position == 0);
    BOOST_TEST(status[0].lag == 5);
    BOOST_TEST(status[0].last_error.find("HTTP 503") != std::string::npos, status[0].last_error);
    BOOST_TEST(status[0].next_attempt_at >= clock.nowMicros() + 500'000);  // half the first backoff at least
    BOOST_TEST(status[0].next_attempt_at <= clock.nowMicros() + 1'000'000);
    BOOST_TEST(status[1].position == 5);

    stats = dispatcher.runOnce();  // still backing off
    BOOST_TEST(server.count() == 1u);
    clock.advance(1'000'001);
    stats = dispatcher.runOnce();
    BOOST_TEST(stats.delivered == 5);
    auto requests = accepted(server);
    BOOST_TEST_REQUIRE(requests.size() == 5u);
    for (std::size_t i = 0; i < requests.size(); ++i) {
        const auto& r = requests[i];
        BOOST_TEST(r.method == "POST");
        BOOST_TEST(r.path == "/hooks/keel?src=test");
        const auto body = parse(r.body);
        BOOST_TEST(body->getValue<Poco::Int64>("seq") == static_cast<Poco::Int64>(i + 1));
        BOOST_TEST(body->getObject("payload")->getValue<int>("n") == static_cast<int>(i + 1));
        BOOST_TEST(r.headers.at("Idempotency-Key") == body->getValue<std::string>("id"));
        BOOST_TEST(r.headers.at("Keel-Event-Id") == body->getValue<std::string>("id"));
        BOOST_TEST(r.headers.at("Keel-Event-Type") == "test.changed");
        BOOST_TEST(r.headers.at("Keel-Event-Seq") == std::to_string(i + 1));
        // What a receiver does: recompute the signature over the timestamp and the raw body.
        const std::string timestamp = r.headers.at("Keel-Timestamp");
        BOOST_TEST(timestamp == std::to_string(clock.nowMicros() / 1'000'000));
        BOOST_TEST(r.headers.at("Keel-Signature") ==
                   "t=" + timestamp + ",v1=" + hmacSha256Hex("whsec-test", timestamp + "." + r.body));
    }

    // A poison event: three attempts with growing backoff, then the dead letters; the next event still goes out.
    append("B", "test.changed", "{\"poison\":true}");
    append("B", "test.changed", "{\"n\":7}");
    server.clear();
    server.setResponder([&](const test::RecordedRequest& r) {
        if (r.body.find("poison") != std::string::npos) return test::CannedResponse{500, "cannot parse"};
        return test::CannedResponse{200, "{}"};
    });
    stats = dispatcher.runOnce();
    BOOST_TEST(stats.failed == 1);
    clock.advance(1'000'001);
    stats = dispatcher.runOnce();
    BOOST_TEST(stats.failed == 1);
    status = dispatcher.status();
    BOOST_TEST(status[0].attempts == 2);
    BOOST_TEST(status[0].next_attempt_at > clock.nowMicros() + 999'999);  // the second backoff is 1-2 s
    clock.advance(2'000'001);
    stats = dispatcher.runOnce();
    BOOST_TEST(stats.dead_lettered == 1);
    BOOST_TEST(stats.delivered == 1);
    const auto dead = dispatcher.deadLetters(std::nullopt);
    BOOST_TEST_REQUIRE(dead.size() == 1u);
    BOOST_TEST(dead[0].subscriber == "crm");
    BOOST_TEST(dead[0].seq == 6);
    BOOST_TEST(dead[0].attempts == 3);
    BOOST_TEST(dead[0].last_error.find("HTTP 500") != std::string::npos, dead[0].last_error);
    const auto open_exception = [&] {
        return db.run([&](db::UnitOfWork& uow) {
            db::Statement& q = uow.statement(
                "SELECT message, reference FROM integration_exception WHERE source = "
                "'events:crm' AND code = 'dead_letter' AND resolved_at IS NULL");
            q.execute();
            std::vector<std::pair<std::string, std::string>> rows;
            while (q.next()) rows.emplace_back(q.getString(0), q.getString(1));
            return rows;
        });
    };
    auto exceptions = open_exception();
    BOOST_TEST_REQUIRE(exceptions.size() == 1u);  // the operator's queue shows it, with what to do
    BOOST_TEST(exceptions[0].second == dead[0].event_id);
    BOOST_TEST(exceptions[0].first.find("event #6") != std::string::npos, exceptions[0].first);
    BOOST_TEST(exceptions[0].first.find("keel events replay --from 6 --subscriber crm") != std::string::npos);
    status = dispatcher.status();
    BOOST_TEST(status[0].position == 7);
    BOOST_TEST(status[0].lag == 0);
    BOOST_TEST(status[0].dead_letters == 1);
    BOOST_TEST(status[0].delivered == 6);

    // Replay from the poison event once the receiver is fixed: both are delivered again, in order.
    server.clear();
    server.setResponder([](const test::RecordedRequest&) { return test::CannedResponse{204, ""}; });
    auto replayed = dispatcher.replay(6, std::string("crm"));
    BOOST_TEST_REQUIRE(replayed.ok());
    BOOST_TEST(dispatcher.deadLetters(std::string("crm")).empty());
    BOOST_TEST(open_exception().empty());  // resolved: the event is on its way again
    stats = dispatcher.runOnce();
    BOOST_TEST(stats.delivered == 2);
    requests = accepted(server);
    BOOST_TEST_REQUIRE(requests.size() == 2u);
    BOOST_TEST(requests[0].headers.at("Keel-Event-Seq") == "6");
    BOOST_TEST(requests[1].headers.at("Keel-Event-Seq") == "7");

    // Replay of everything to every subscriber; the filter still applies.
    server.clear();
    BOOST_TEST_REQUIRE(dispatcher.replay(1, std::nullopt).ok());
    stats = dispatcher.runOnce();
    BOOST_TEST(stats.delivered == 7);
    BOOST_TEST(stats.filtered == 7);

    auto unknown = dispatcher.replay(1, std::string("nobody"));
    BOOST_TEST_REQUIRE(!unknown.ok());
    BOOST_TEST((unknown.problem().code == ExitCode::kNotFound));
    auto out_of_range = dispatcher.replay(9, std::nullopt);
    BOOST_TEST_REQUIRE(!out_of_range.ok());
    BOOST_TEST((out_of_range.problem().code == ExitCode::kRejected));
    BOOST_TEST(out_of_range.problem().message.find("from 1 to 7") != std::string::npos, out_of_range.problem().message);

    // A receiver that cannot be reached is a failed attempt, not an exception.
    events::Dispatcher unreachable(db, {hook("gone", "http://127.0.0.1:" + std::to_string(test::freePort()) + "/")},
                                   "node-a", clock, 30s);
    stats = unreachable.runOnce();
    BOOST_TEST(stats.failed == 1);
    bool found = false;
    for (const auto& row : unreachable.status()) {
        if (row.subscriber != "gone") {
            BOOST_TEST(!row.configured);  // rows of the other dispatcher's subscribers are shown as such
            continue;
        }
        found = true;
        BOOST_TEST(row.last_error.find("127.0.0.1") != std::string::npos, row.last_error);
    }
    BOOST_TEST(found);
}

BOOST_AUTO_TEST_CASE(https_webhooks_verify_the_receivers_certificate) {
    test::TempDir dir;
    const std::string cert = dir.path + "/cert.pem";
    const std::string key = dir.path + "/key.pem";
    const auto made = test::runCommand(
        "/usr/bin/openssl", {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days",
                             "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
    BOOST_TEST_REQUIRE(made.exit_code == 0, made.err);
    test::HttpRecorder server(cert, key);
    ManualClock clock(1'800'000'000'000'000);
    append("A", "test.changed", "{}");

    // Not signed by a CA the system trusts: refused, and the reason is kept.
    events::Dispatcher untrusting(db, {hook("tls", server.url("/hook"))}, "node-a", clock, 30s);
    auto stats = untrusting.runOnce();
    BOOST_TEST(stats.failed == 1);
    BOOST_TEST(server.count() == 0u);
    BOOST_TEST(contains(untrusting.status().at(0).last_error, "certificate"), untrusting.status().at(0).last_error);

    // Trusting the receiver's own CA (events.subscriber.NAME.ca_file): delivered over TLS.
    auto trusted = hook("tls", server.url("/hook"));
    trusted.ca_file = cert;
    events::Dispatcher dispatcher(db, {trusted}, "node-a", clock, 30s);
    clock.advance(2'000'000);
    stats = dispatcher.runOnce();
    BOOST_TEST(stats.delivered == 1, dispatcher.status().at(0).last_error);
    BOOST_TEST_REQUIRE(server.count() == 1u);
    BOOST_TEST(server.requests()[0].headers.count("Keel-Signature") == 1u);
}

BOOST_AUTO_TEST_CASE(a_second_node_does_not_deliver_while_the_first_holds_the_lease) {
    test::HttpRecorder server;
    ManualClock clock(1'800'000'000'000'000);
    events::Dispatcher a(db, {hook("crm", server.url("/"))}, "node-a", clock, 10s);
    events::Dispatcher b(db, {hook("crm", server.url("/"))}, "node-b", clock, 10s);
    append("A", "test.changed", "{}");
    BOOST_TEST(a.runOnce().delivered == 1);
    append("A", "test.changed", "{}");
    BOOST_TEST(b.runOnce().delivered == 0);
    clock.advance(10'000'001);  // node-a stopped renewing
    BOOST_TEST(b.runOnce().delivered == 1);
    BOOST_TEST(server.count() == 2u);
}

BOOST_AUTO_TEST_CASE(a_dispatcher_killed_in_the_middle_of_a_batch_loses_nothing) {
    const int kEvents = 120;
    for (int i = 0; i < kEvents; ++i) {
        append("agg-" + std::to_string(i % 6), "test.changed", "{\"i\":" + std::to_string(i) + "}");
    }
    test::HttpRecorder server;
    server.setResponder([](const test::RecordedRequest&) {
        std::this_thread::sleep_for(15ms);  // a slow receiver, so the kill lands in the middle of the work
        return test::CannedResponse{200, "{}"};
    });
    const std::vector<std::string> settings = {"--db", database.connectionString(),
                                               "-D",   "events.subscriber.hook.url=" + server.url("/in"),
                                               "-D",   "events.subscriber.hook.secret=env:KEEL_TEST_HOOK_SECRET",
                                               "-D",   "events.subscriber.hook.start=earliest",
                                               "-D",   "events.dispatch.lease_ms=300"};
    const std::map<std::string, std::string> environment = {{"KEEL_TEST_HOOK_SECRET", "s"}};
    auto with = [&](std::vector<std::string> command) {
        std::vector<std::string> args = settings;
        args.insert(args.end(), command.begin(), command.end());
        return args;
    };
    {
        test::BackgroundProcess dispatcher(test::binary("cli/keel"),
                                           with({"events", "dispatch", "--interval-ms", "20"}), environment);
        BOOST_TEST_REQUIRE(test::pollUntil([&] { return server.count() >= 30; }, 60s), dispatcher.output());
        dispatcher.kill();
    }
    const std::size_t at_kill = server.count();
    BOOST_TEST(at_kill < static_cast<std::size_t>(kEvents));

    // Restarted (after the dead process's lease ran out), it delivers the rest.
    std::set<std::string> received;
    BOOST_TEST_REQUIRE(test::pollUntil(
        [&] {
            const auto r =
                test::runCommand(test::binary("cli/keel"), with({"events", "dispatch", "--once"}), environment);
            BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
            received.clear();
            for (const auto& request : accepted(server)) received.insert(request.headers.at("Keel-Event-Id"));
            return received.size() == static_cast<std::size_t>(kEvents);
        },
        60s));

    // At least once: at most the event in flight at the kill arrives twice; first arrivals follow the numbers.
    const auto requests = accepted(server);
    BOOST_TEST(requests.size() <= static_cast<std::size_t>(kEvents) + 2);
    std::set<std::string> first_seen;
    std::int64_t last_first_seq = 0;
    for (const auto& r : requests) {
        if (!first_seen.insert(r.headers.at("Keel-Event-Id")).second) continue;
        const std::int64_t seq = std::stoll(r.headers.at("Keel-Event-Seq"));
        BOOST_TEST(seq == last_first_seq + 1);
        last_first_seq = seq;
    }
    const auto status =
        test::runCommand(test::binary("cli/keel"), with({"--json", "events", "subscribers"}), environment);
    BOOST_TEST_REQUIRE(status.exit_code == 0, status.err);
    const auto hook_status = parse(status.out)->getArray("subscribers")->getObject(0);
    BOOST_TEST(hook_status->getValue<Poco::Int64>("position") == kEvents);
    BOOST_TEST(hook_status->getValue<Poco::Int64>("lag") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
