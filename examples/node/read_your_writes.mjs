// Read your writes across services, from Node.js: create a community in the registry and
// schedule its first convening in the events service at once, passing the registry's
// `position` as `min_registry_position` (the consistency token). No retry loop: the
// events service waits (at most 5 s) until it has applied that registry position.
//
//   node examples/node/read_your_writes.mjs 127.0.0.1:50051 127.0.0.1:50052 "$MEMBER_TOKEN"
//
// The token is a member's (`copnet token --member <uuid>`): they become the community's
// first co-lead, and so may schedule its convenings. TLS: the variables of registry_client.mjs.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";

const here = path.dirname(fileURLToPath(import.meta.url));
const protos = path.resolve(here, "../../protos");
const [registryAddress, eventsAddress, token, rounds = "3"] = process.argv.slice(2);

const definition = protoLoader.loadSync(
  ["copnet/registry/v1/registry.proto", "copnet/events/v1/events.proto"],
  { includeDirs: [protos], keepCase: true, enums: String, longs: String, defaults: true },
);
const { copnet } = grpc.loadPackageDefinition(definition);
const read = (name) => (process.env[name] ? readFileSync(process.env[name]) : null);
const ca = read("COPNET_TLS_CA");
const credentials = ca
  ? grpc.credentials.createSsl(ca, read("COPNET_TLS_CLIENT_KEY"), read("COPNET_TLS_CLIENT_CERT"))
  : grpc.credentials.createInsecure();
const registry = new copnet.registry.v1.RegistryService(registryAddress, credentials);
const events = new copnet.events.v1.EventsService(eventsAddress, credentials);
const metadata = new grpc.Metadata();
metadata.set("authorization", `Bearer ${token}`);

const call = (client, method, request) =>
  new Promise((resolve, reject) =>
    client[method](request, metadata, { deadline: Date.now() + 15000 }, (error, reply) =>
      error ? reject(error) : resolve(reply),
    ),
  );

const scheduled = [];
for (let round = 0; round < Number(rounds); round += 1) {
  const slug = `node-cop-${randomUUID().slice(0, 8)}`;
  const created = await call(registry, "CreateCommunity", {
    request_id: randomUUID(),
    slug,
    name: "A community from Node.js",
    domain: "cancer-care",
    region: "london",
    joining_policy: "JOINING_POLICY_OPEN",
  });
  // Immediately, with the consistency token: positions are uint64 (strings here).
  const convening = await call(events, "ScheduleConvening", {
    request_id: randomUUID(),
    community_id: created.community.community_id,
    title: "Launch meeting",
    topic: "Launch",
    format: "CONVENING_FORMAT_WEBINAR",
    join_link: "https://meet.example.nhs.uk/launch",
    start: "2024-03-01T10:00",
    end: "2024-03-01T11:00",
    min_registry_position: created.position,
  });
  scheduled.push({
    community_id: created.community.community_id,
    registry_position: created.position,
    convening_community_id: convening.convening.community_id,
    status: convening.convening.status,
  });
}
console.log(JSON.stringify({ scheduled }));
registry.close();
events.close();
