"""Contracts between services, on the consumer's side: what a service keeps of another
service's integration events (the protobuf messages themselves are the generated stubs).

It imports no service package; services import it. `registry_mirror`: the registry as
other services of the node see it.
"""
