"""Where the events service's aggregates used to live, so that their stored events keep
loading.

Until the domain became a package, `Convening` and `MeetingPlan` were in the module
`services.events.domain`; events stored then name `services.events.domain:<class>`
(for example `services.events.domain:Convening.SignedUp`).
"""

from services.common.topics import keep_old_topics
from services.events.domain.convening import Convening
from services.events.domain.plan import MeetingPlan

keep_old_topics("services.events.domain", Convening, MeetingPlan)
