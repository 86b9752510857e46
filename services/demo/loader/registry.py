"""Loading the registry: organisations, then each community with its generated members,
their memberships and roles."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from copnet.events.v1 import events_pb2 as epb
from copnet.registry.v1 import registry_pb2 as rpb
from services.demo.loader.base import ORGANISER_ROLES, Member, Steps
from services.demo.people import PeopleGenerator
from services.demo.scenario.model import Community


class RegistrySteps(Steps):
    def organisations(self) -> None:
        for node in self.scenario.nodes:
            client = self.clients[node.node_id]
            for organisation in node.organisations:
                reply = client.call(
                    "registry",
                    "CreateOrganisation",
                    rpb.CreateOrganisationRequest(
                        request_id=client.request_id("organisation", organisation.key),
                        name=organisation.name,
                        kind=organisation.kind,
                        region=organisation.region,
                    ),
                )
                self.loaded.organisations[organisation.key] = reply.organisation.organisation_id
        count = sum(len(n.organisations) for n in self.scenario.nodes)
        self.say(f"  {count} organisations on {len(self.scenario.nodes)} nodes")

    def community(self, spec: Community) -> None:
        client = self.clients[spec.node_id]
        people = PeopleGenerator(spec.key)
        wanted = [
            (group, people.person(self.scenario.organisation(group.organisation)[1].domain))
            for group in spec.people
            for _ in range(group.count)
        ]

        def register(index: int) -> Member:
            group, person = wanted[index]
            reply = client.call(
                "registry",
                "RegisterMember",
                rpb.RegisterMemberRequest(
                    request_id=client.request_id("member", spec.key, index),
                    display_name=person.display_name,
                    profession=group.profession,
                    home_organisation_id=self.loaded.organisations[group.organisation],
                    email=person.email,
                ),
            )
            return Member(reply.member.member_id, group.organisation, group.profession, group.role)

        with ThreadPoolExecutor(8) as pool:
            members = list(pool.map(register, range(len(wanted))))
        self.loaded.members[spec.key] = members
        founder = members[0].member_id
        reply = client.call(
            "registry",
            "CreateCommunity",
            rpb.CreateCommunityRequest(
                request_id=client.request_id("community", spec.key),
                slug=spec.slug,
                name=spec.name,
                domain=spec.domain,
                purpose=spec.purpose,
                region=spec.region,
                host_organisation_ids=[self.loaded.organisations[h] for h in spec.hosts],
                joining_policy=spec.joining_policy,
            ),
            member=founder,
        )
        community_id = reply.community.community_id
        self.loaded.communities[spec.key] = community_id

        def join(member: Member) -> None:
            client.call(
                "registry",
                "JoinCommunity",
                rpb.JoinCommunityRequest(
                    request_id=client.request_id("join", spec.key, member.member_id),
                    community_id=community_id,
                    member_id=member.member_id,
                ),
            )

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(join, members[1:]))
        for member in members[1:]:
            if member.role != rpb.ROLE_MEMBER:
                client.call(
                    "registry",
                    "AssignRole",
                    rpb.AssignRoleRequest(
                        request_id=client.request_id("role", spec.key, member.member_id),
                        community_id=community_id,
                        member_id=member.member_id,
                        role=member.role,
                    ),
                    member=founder,
                )
        self.say(f"  {spec.name} on {spec.node_id}: {len(members)} members")

    def wait_for_organisers(self, spec: Community) -> None:
        """The events service learns communities from the registry's events, in order: once it
        knows every organiser, it knows every membership before them too."""
        client = self.clients[spec.node_id]
        community_id = self.loaded.communities[spec.key]
        wanted = {m.member_id for m in self.loaded.members[spec.key] if m.role in ORGANISER_ROLES}
        wanted.add(self.loaded.founder(spec.key))

        def knows_them() -> bool:
            reply = client.find(
                "events", "GetCommunity", epb.GetCommunityRequest(community_id=community_id)
            )
            return reply is not None and wanted <= set(reply.community.organiser_ids)

        client.wait_until(f"the events service learning {spec.name}'s organisers", knows_them)
