"""Where the registry's aggregates used to live, so that their stored events keep loading.

Until the domain became a package, every aggregate class was in the module
`services.registry.domain`; events stored then name `services.registry.domain:<class>`
(for example `services.registry.domain:Membership.Joined`).
"""

from services.common.topics import keep_old_topics
from services.registry.domain.community import Community
from services.registry.domain.member import Member
from services.registry.domain.membership import Membership
from services.registry.domain.organisation import Organisation

keep_old_topics("services.registry.domain", Organisation, Community, Member, Membership)
