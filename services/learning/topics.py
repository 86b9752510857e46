"""Where learning's aggregates used to live, so that their stored events keep loading.

Until the domain became a package, every aggregate class was in the module
`services.learning.domain`; events stored then name `services.learning.domain:<class>`
(for example `services.learning.domain:LearningItem.Published`).
"""

from services.common.topics import keep_old_topics
from services.learning.domain.adoption import Adoption
from services.learning.domain.item import LearningItem
from services.learning.domain.received import ReceivedItem
from services.learning.domain.subscription import Subscription

keep_old_topics("services.learning.domain", LearningItem, Adoption, ReceivedItem, Subscription)
