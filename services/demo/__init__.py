"""`copnet demo`: a region of nodes on this machine, loaded with the seeds through the public
gRPC APIs, like any client."""
