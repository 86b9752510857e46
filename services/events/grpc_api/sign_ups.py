"""EventsService calls on sign-ups and feedback."""

from __future__ import annotations

from copnet.events.v1 import events_pb2 as pb
from services.common.errors import PermissionDenied, Violations
from services.common.grpc_server import current_caller
from services.common.protoconv import timestamp
from services.common.servicer import (
    Context,
    command,
    page,
    parse_optional_uuid,
    parse_uuid,
    read_your_writes,
    run,
)
from services.events import codecs
from services.events.grpc_api.base import Servicer
from services.events.grpc_api.requests import parse_reason
from services.events.grpc_api.responses import feedback_pb, sign_up_pb
from services.events.values import MAX_COMMENT_LENGTH, parse_rating
from services.events.views import SignUpRecord
from services.kernel.parsing import parse_text


class SignUpCalls(Servicer):
    async def SignUp(self, request: pb.SignUpRequest, context: Context) -> pb.SignUpResponse:
        v = Violations()
        cmd = command(request, "SignUp", v)
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        member_id = self._subject_member(request.member_id, v)
        v.raise_if_any()
        outcome = await run(self.app.sign_up, cmd, convening_id, member_id)
        sign_up, position = await self._sign_up_answer(outcome, member_id)
        return pb.SignUpResponse(sign_up=sign_up, position=position)

    async def CancelSignUp(
        self, request: pb.CancelSignUpRequest, context: Context
    ) -> pb.CancelSignUpResponse:
        v = Violations()
        cmd = command(request, "CancelSignUp", v)
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        member_id = self._subject_member(request.member_id, v)
        reason = parse_reason(v, request.reason)
        v.raise_if_any()
        outcome = await run(self.app.cancel_sign_up, cmd, convening_id, member_id, reason)
        sign_up, position = await self._sign_up_answer(outcome, member_id)
        return pb.CancelSignUpResponse(sign_up=sign_up, position=position)

    async def ApproveSignUp(
        self, request: pb.ApproveSignUpRequest, context: Context
    ) -> pb.ApproveSignUpResponse:
        v = Violations()
        cmd = command(request, "ApproveSignUp", v)
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        member_id = v.check("member_id", parse_uuid, request.member_id)
        v.raise_if_any()
        outcome = await run(self.app.approve_sign_up, cmd, convening_id, member_id)
        sign_up, position = await self._sign_up_answer(outcome, member_id)
        return pb.ApproveSignUpResponse(sign_up=sign_up, position=position)

    async def DeclineSignUp(
        self, request: pb.DeclineSignUpRequest, context: Context
    ) -> pb.DeclineSignUpResponse:
        v = Violations()
        cmd = command(request, "DeclineSignUp", v)
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        member_id = v.check("member_id", parse_uuid, request.member_id)
        reason = parse_reason(v, request.reason)
        v.raise_if_any()
        outcome = await run(self.app.decline_sign_up, cmd, convening_id, member_id, reason)
        sign_up, position = await self._sign_up_answer(outcome, member_id)
        return pb.DeclineSignUpResponse(sign_up=sign_up, position=position)

    async def GetSignUp(
        self, request: pb.GetSignUpRequest, context: Context
    ) -> pb.GetSignUpResponse:
        v = Violations()
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        member_id = self._subject_member(request.member_id, v)
        v.raise_if_any()
        caller = current_caller()
        sign_up = await run(self.app.sign_up_of, caller, convening_id, member_id)
        convening = await run(self.app.convening, convening_id)
        return pb.GetSignUpResponse(sign_up=sign_up_pb(SignUpRecord.of(convening, sign_up)))

    async def ListSignUps(
        self, request: pb.ListSignUpsRequest, context: Context
    ) -> pb.ListSignUpsResponse:
        v = Violations()
        convening_id = v.check("convening_id", parse_optional_uuid, request.convening_id)
        member_id = v.check("member_id", parse_optional_uuid, request.member_id)
        status = v.check("status", codecs.SIGN_UP_STATUS.to_domain_or_none, request.status)
        if convening_id is None and member_id is None and not v:
            v.add("convening_id", "give convening_id, member_id or both")
        filters = {
            "convening": str(convening_id or ""),
            "member": str(member_id or ""),
            "status": status or "",
        }
        page_ = page(request, filters, v)
        v.raise_if_any()
        caller = current_caller()
        own = member_id is not None and caller.is_member(member_id)
        if not own and not caller.is_operator:
            if convening_id is None:
                raise PermissionDenied("members see only their own sign-ups")
            convening = await run(self.app.convening, convening_id)
            if not await run(self.app.may_see_sign_ups, caller, convening.community_id):
                raise PermissionDenied(
                    "a convening's sign-ups are shown to the community's co-leads and "
                    "facilitators and the node operator"
                )
        await read_your_writes(self.follower, request.min_position)
        records, token = await run(
            self.schedule.list_sign_ups,
            page_,
            str(convening_id or ""),
            str(member_id or ""),
            status or "",
        )
        return pb.ListSignUpsResponse(
            sign_ups=[sign_up_pb(r) for r in records], next_page_token=token
        )

    # Feedback

    async def GiveFeedback(
        self, request: pb.GiveFeedbackRequest, context: Context
    ) -> pb.GiveFeedbackResponse:
        v = Violations()
        cmd = command(request, "GiveFeedback", v)
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        rating = v.check("rating", parse_rating, request.rating)
        comment = v.check("comment", parse_text, request.comment, MAX_COMMENT_LENGTH)
        v.raise_if_any()
        outcome = await run(self.app.give_feedback, cmd, convening_id, rating, comment)
        convening = await self._entity(outcome)
        mine = convening.signups[current_caller().member_id]
        feedback = pb.Feedback(
            rating=mine.rating, comment=mine.comment, given_at=timestamp(mine.updated_at)
        )
        return pb.GiveFeedbackResponse(feedback=feedback, position=outcome.position)

    async def ListFeedback(
        self, request: pb.ListFeedbackRequest, context: Context
    ) -> pb.ListFeedbackResponse:
        v = Violations()
        convening_id = v.check("convening_id", parse_uuid, request.convening_id)
        page_ = page(request, {"convening": request.convening_id}, v)
        v.raise_if_any()
        convening = await run(self.app.convening, convening_id)
        if not await run(self.app.may_see_sign_ups, current_caller(), convening.community_id):
            raise PermissionDenied(
                "feedback is shown to the community's co-leads and facilitators and the operator"
            )
        await read_your_writes(self.follower, request.min_position)
        records, token = await run(self.schedule.list_feedback, page_, str(convening_id))
        return pb.ListFeedbackResponse(
            feedback=[feedback_pb(r) for r in records], next_page_token=token
        )
