// A trust's IT team calling a copnet node's registry from Node.js, straight from
// the .proto files (no generated code):
//
//   node examples/node/registry_client.mjs 127.0.0.1:50051 "$(copnet token --operator --name alice)"
//
// A node serving TLS: say which CA to trust (and, under mutual TLS, which client
// certificate to present) with the variables `copnet up` itself reads:
//
//   COPNET_TLS_CA=copnet-data/grpc-tls/ca.crt \
//   COPNET_TLS_CLIENT_CERT=copnet-data/grpc-tls/alice.crt \
//   COPNET_TLS_CLIENT_KEY=copnet-data/grpc-tls/alice.key \
//   node examples/node/registry_client.mjs 127.0.0.1:50051 "$TOKEN"
//
// It checks health, registers an organisation (retrying with the same request_id
// is safe), lists organisations, and shows the field violations of a bad request.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";

const here = path.dirname(fileURLToPath(import.meta.url));
const protos = path.resolve(here, "../../protos");
const [address = "127.0.0.1:50051", token = process.env.COPNET_TOKEN] = process.argv.slice(2);

const definition = protoLoader.loadSync("copnet/registry/v1/registry.proto", {
  includeDirs: [protos],
  keepCase: true,
  enums: String,
  longs: Number,
  defaults: true,
});
const { copnet } = grpc.loadPackageDefinition(definition);
const read = (name) => (process.env[name] ? readFileSync(process.env[name]) : null);
const ca = read("COPNET_TLS_CA");
const credentials = ca
  ? grpc.credentials.createSsl(ca, read("COPNET_TLS_CLIENT_KEY"), read("COPNET_TLS_CLIENT_CERT"))
  : grpc.credentials.createInsecure();
const registry = new copnet.registry.v1.RegistryService(address, credentials);
const metadata = new grpc.Metadata();
metadata.set("authorization", `Bearer ${token}`);

const call = (method, request) =>
  new Promise((resolve, reject) =>
    registry[method](request, metadata, { deadline: Date.now() + 10000 }, (error, reply) =>
      error ? reject(error) : resolve(reply),
    ),
  );

const requestId = randomUUID();
const create = {
  request_id: requestId,
  name: "Lewisham and Greenwich NHS Trust",
  kind: "ORGANISATION_KIND_NHS_TRUST",
  region: "south-east-london",
  ods_code: "RJ2",
};
const created = await call("CreateOrganisation", create);
const retried = await call("CreateOrganisation", create);
const listed = await call("ListOrganisations", { min_position: created.position });
let violations = [];
try {
  await call("CreateOrganisation", { request_id: randomUUID(), name: "", region: "Not A Slug" });
} catch (error) {
  violations = [error.code, error.details];
}
console.log(
  JSON.stringify({
    organisation_id: created.organisation.organisation_id,
    kind: created.organisation.kind,
    retried_same: retried.organisation.organisation_id === created.organisation.organisation_id,
    listed: listed.organisations.map((o) => o.name),
    invalid: violations,
  }),
);
registry.close();
