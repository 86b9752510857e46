"""The report page: figures for commissioners and CoP leads, read from a node's (or every
node's) gRPC APIs and drawn as charts. A client of the services, not a fifth one."""
