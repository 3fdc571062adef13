from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MediaFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEDIA_FORMAT_UNSPECIFIED: _ClassVar[MediaFormat]
    MEDIA_FORMAT_H264_ANNEXB: _ClassVar[MediaFormat]
    MEDIA_FORMAT_WEBM: _ClassVar[MediaFormat]
    MEDIA_FORMAT_FRAGMENTED_MP4: _ClassVar[MediaFormat]
    MEDIA_FORMAT_JPEG: _ClassVar[MediaFormat]
    MEDIA_FORMAT_PNG: _ClassVar[MediaFormat]
    MEDIA_FORMAT_RAW_I420: _ClassVar[MediaFormat]
    MEDIA_FORMAT_RAW_RGB24: _ClassVar[MediaFormat]

class ChallengeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHALLENGE_KIND_UNSPECIFIED: _ClassVar[ChallengeKind]
    CHALLENGE_KIND_TURN_HEAD: _ClassVar[ChallengeKind]
    CHALLENGE_KIND_LOOK_UP: _ClassVar[ChallengeKind]
    CHALLENGE_KIND_COVER_FACE: _ClassVar[ChallengeKind]
    CHALLENGE_KIND_BLINK: _ClassVar[ChallengeKind]

class ChallengeOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHALLENGE_OUTCOME_UNSPECIFIED: _ClassVar[ChallengeOutcome]
    CHALLENGE_OUTCOME_PASS: _ClassVar[ChallengeOutcome]
    CHALLENGE_OUTCOME_FAIL: _ClassVar[ChallengeOutcome]
    CHALLENGE_OUTCOME_INCONCLUSIVE: _ClassVar[ChallengeOutcome]

class RiskState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RISK_STATE_UNSPECIFIED: _ClassVar[RiskState]
    RISK_STATE_CLEAR: _ClassVar[RiskState]
    RISK_STATE_INCONCLUSIVE: _ClassVar[RiskState]
    RISK_STATE_SUSPICIOUS: _ClassVar[RiskState]
    RISK_STATE_ALERT: _ClassVar[RiskState]

class AbstainCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ABSTAIN_CODE_UNSPECIFIED: _ClassVar[AbstainCode]
    ABSTAIN_CODE_NO_FACE: _ClassVar[AbstainCode]
    ABSTAIN_CODE_FACE_TOO_SMALL: _ClassVar[AbstainCode]
    ABSTAIN_CODE_TOO_DARK: _ClassVar[AbstainCode]
    ABSTAIN_CODE_TOO_BRIGHT: _ClassVar[AbstainCode]
    ABSTAIN_CODE_TOO_BLURRED: _ClassVar[AbstainCode]
    ABSTAIN_CODE_SEVERAL_FACES: _ClassVar[AbstainCode]
    ABSTAIN_CODE_CAMERA_OFF: _ClassVar[AbstainCode]

class JobFileStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_FILE_STATUS_UNSPECIFIED: _ClassVar[JobFileStatus]
    JOB_FILE_STATUS_PENDING: _ClassVar[JobFileStatus]
    JOB_FILE_STATUS_DONE: _ClassVar[JobFileStatus]
    JOB_FILE_STATUS_FAILED: _ClassVar[JobFileStatus]

class IdentityMatchKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IDENTITY_MATCH_KIND_UNSPECIFIED: _ClassVar[IdentityMatchKind]
    IDENTITY_MATCH_KIND_DUPLICATE: _ClassVar[IdentityMatchKind]
    IDENTITY_MATCH_KIND_BLOCKLISTED: _ClassVar[IdentityMatchKind]
MEDIA_FORMAT_UNSPECIFIED: MediaFormat
MEDIA_FORMAT_H264_ANNEXB: MediaFormat
MEDIA_FORMAT_WEBM: MediaFormat
MEDIA_FORMAT_FRAGMENTED_MP4: MediaFormat
MEDIA_FORMAT_JPEG: MediaFormat
MEDIA_FORMAT_PNG: MediaFormat
MEDIA_FORMAT_RAW_I420: MediaFormat
MEDIA_FORMAT_RAW_RGB24: MediaFormat
CHALLENGE_KIND_UNSPECIFIED: ChallengeKind
CHALLENGE_KIND_TURN_HEAD: ChallengeKind
CHALLENGE_KIND_LOOK_UP: ChallengeKind
CHALLENGE_KIND_COVER_FACE: ChallengeKind
CHALLENGE_KIND_BLINK: ChallengeKind
CHALLENGE_OUTCOME_UNSPECIFIED: ChallengeOutcome
CHALLENGE_OUTCOME_PASS: ChallengeOutcome
CHALLENGE_OUTCOME_FAIL: ChallengeOutcome
CHALLENGE_OUTCOME_INCONCLUSIVE: ChallengeOutcome
RISK_STATE_UNSPECIFIED: RiskState
RISK_STATE_CLEAR: RiskState
RISK_STATE_INCONCLUSIVE: RiskState
RISK_STATE_SUSPICIOUS: RiskState
RISK_STATE_ALERT: RiskState
ABSTAIN_CODE_UNSPECIFIED: AbstainCode
ABSTAIN_CODE_NO_FACE: AbstainCode
ABSTAIN_CODE_FACE_TOO_SMALL: AbstainCode
ABSTAIN_CODE_TOO_DARK: AbstainCode
ABSTAIN_CODE_TOO_BRIGHT: AbstainCode
ABSTAIN_CODE_TOO_BLURRED: AbstainCode
ABSTAIN_CODE_SEVERAL_FACES: AbstainCode
ABSTAIN_CODE_CAMERA_OFF: AbstainCode
JOB_FILE_STATUS_UNSPECIFIED: JobFileStatus
JOB_FILE_STATUS_PENDING: JobFileStatus
JOB_FILE_STATUS_DONE: JobFileStatus
JOB_FILE_STATUS_FAILED: JobFileStatus
IDENTITY_MATCH_KIND_UNSPECIFIED: IdentityMatchKind
IDENTITY_MATCH_KIND_DUPLICATE: IdentityMatchKind
IDENTITY_MATCH_KIND_BLOCKLISTED: IdentityMatchKind

class AnalyzeRequest(_message.Message):
    __slots__ = ("start", "chunk", "frame", "finish")
    START_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    FINISH_FIELD_NUMBER: _ClassVar[int]
    start: SessionStart
    chunk: MediaChunk
    frame: VideoFrame
    finish: Finish
    def __init__(self, start: _Optional[_Union[SessionStart, _Mapping]] = ..., chunk: _Optional[_Union[MediaChunk, _Mapping]] = ..., frame: _Optional[_Union[VideoFrame, _Mapping]] = ..., finish: _Optional[_Union[Finish, _Mapping]] = ...) -> None: ...

class SessionStart(_message.Message):
    __slots__ = ("session_id", "participant_id", "interview_ref", "candidate_ref", "format", "fps_hint", "capture")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTERVIEW_REF_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_REF_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    FPS_HINT_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    participant_id: str
    interview_ref: str
    candidate_ref: str
    format: MediaFormat
    fps_hint: float
    capture: CaptureInfo
    def __init__(self, session_id: _Optional[str] = ..., participant_id: _Optional[str] = ..., interview_ref: _Optional[str] = ..., candidate_ref: _Optional[str] = ..., format: _Optional[_Union[MediaFormat, str]] = ..., fps_hint: _Optional[float] = ..., capture: _Optional[_Union[CaptureInfo, _Mapping]] = ...) -> None: ...

class CaptureInfo(_message.Message):
    __slots__ = ("device_label", "platform", "client_version")
    DEVICE_LABEL_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    CLIENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    device_label: str
    platform: str
    client_version: str
    def __init__(self, device_label: _Optional[str] = ..., platform: _Optional[str] = ..., client_version: _Optional[str] = ...) -> None: ...

class MediaChunk(_message.Message):
    __slots__ = ("data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    def __init__(self, data: _Optional[bytes] = ...) -> None: ...

class VideoFrame(_message.Message):
    __slots__ = ("pts_us", "data", "width", "height", "stride", "rotation")
    PTS_US_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    STRIDE_FIELD_NUMBER: _ClassVar[int]
    ROTATION_FIELD_NUMBER: _ClassVar[int]
    pts_us: int
    data: bytes
    width: int
    height: int
    stride: int
    rotation: int
    def __init__(self, pts_us: _Optional[int] = ..., data: _Optional[bytes] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., stride: _Optional[int] = ..., rotation: _Optional[int] = ...) -> None: ...

class Finish(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AnalyzeResponse(_message.Message):
    __slots__ = ("accepted", "segment", "state_change", "summary", "challenge")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    STATE_CHANGE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    CHALLENGE_FIELD_NUMBER: _ClassVar[int]
    accepted: SessionAccepted
    segment: SegmentResult
    state_change: StateChange
    summary: SessionSummary
    challenge: ChallengeResult
    def __init__(self, accepted: _Optional[_Union[SessionAccepted, _Mapping]] = ..., segment: _Optional[_Union[SegmentResult, _Mapping]] = ..., state_change: _Optional[_Union[StateChange, _Mapping]] = ..., summary: _Optional[_Union[SessionSummary, _Mapping]] = ..., challenge: _Optional[_Union[ChallengeResult, _Mapping]] = ...) -> None: ...

class ChallengeRequest(_message.Message):
    __slots__ = ("session_id", "kind", "window_ms")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    WINDOW_MS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    kind: ChallengeKind
    window_ms: int
    def __init__(self, session_id: _Optional[str] = ..., kind: _Optional[_Union[ChallengeKind, str]] = ..., window_ms: _Optional[int] = ...) -> None: ...

class ChallengeResponse(_message.Message):
    __slots__ = ("challenge_id", "instruction", "window_ms")
    CHALLENGE_ID_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTION_FIELD_NUMBER: _ClassVar[int]
    WINDOW_MS_FIELD_NUMBER: _ClassVar[int]
    challenge_id: str
    instruction: str
    window_ms: int
    def __init__(self, challenge_id: _Optional[str] = ..., instruction: _Optional[str] = ..., window_ms: _Optional[int] = ...) -> None: ...

class Measurement(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: float
    def __init__(self, name: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...

class ChallengeResult(_message.Message):
    __slots__ = ("session_id", "challenge_id", "kind", "outcome", "start_us", "end_us", "measurements", "message")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CHALLENGE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    START_US_FIELD_NUMBER: _ClassVar[int]
    END_US_FIELD_NUMBER: _ClassVar[int]
    MEASUREMENTS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    challenge_id: str
    kind: ChallengeKind
    outcome: ChallengeOutcome
    start_us: int
    end_us: int
    measurements: _containers.RepeatedCompositeFieldContainer[Measurement]
    message: str
    def __init__(self, session_id: _Optional[str] = ..., challenge_id: _Optional[str] = ..., kind: _Optional[_Union[ChallengeKind, str]] = ..., outcome: _Optional[_Union[ChallengeOutcome, str]] = ..., start_us: _Optional[int] = ..., end_us: _Optional[int] = ..., measurements: _Optional[_Iterable[_Union[Measurement, _Mapping]]] = ..., message: _Optional[str] = ...) -> None: ...

class SessionAccepted(_message.Message):
    __slots__ = ("session_id", "settings", "models", "execution_provider")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    settings: EffectiveSettings
    models: _containers.RepeatedCompositeFieldContainer[ModelInfo]
    execution_provider: str
    def __init__(self, session_id: _Optional[str] = ..., settings: _Optional[_Union[EffectiveSettings, _Mapping]] = ..., models: _Optional[_Iterable[_Union[ModelInfo, _Mapping]]] = ..., execution_provider: _Optional[str] = ...) -> None: ...

class EffectiveSettings(_message.Message):
    __slots__ = ("sample_fps", "segment_ms", "max_side", "max_frame_bytes", "idle_timeout_s", "max_session_s")
    SAMPLE_FPS_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_SIDE_FIELD_NUMBER: _ClassVar[int]
    MAX_FRAME_BYTES_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    MAX_SESSION_S_FIELD_NUMBER: _ClassVar[int]
    sample_fps: float
    segment_ms: int
    max_side: int
    max_frame_bytes: int
    idle_timeout_s: int
    max_session_s: int
    def __init__(self, sample_fps: _Optional[float] = ..., segment_ms: _Optional[int] = ..., max_side: _Optional[int] = ..., max_frame_bytes: _Optional[int] = ..., idle_timeout_s: _Optional[int] = ..., max_session_s: _Optional[int] = ...) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("name", "version")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class FrameAccounting(_message.Message):
    __slots__ = ("received", "decoded", "analysed", "dropped", "one_face", "no_face", "several_faces", "usable", "undecodable")
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    DECODED_FIELD_NUMBER: _ClassVar[int]
    ANALYSED_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    ONE_FACE_FIELD_NUMBER: _ClassVar[int]
    NO_FACE_FIELD_NUMBER: _ClassVar[int]
    SEVERAL_FACES_FIELD_NUMBER: _ClassVar[int]
    USABLE_FIELD_NUMBER: _ClassVar[int]
    UNDECODABLE_FIELD_NUMBER: _ClassVar[int]
    received: int
    decoded: int
    analysed: int
    dropped: int
    one_face: int
    no_face: int
    several_faces: int
    usable: int
    undecodable: int
    def __init__(self, received: _Optional[int] = ..., decoded: _Optional[int] = ..., analysed: _Optional[int] = ..., dropped: _Optional[int] = ..., one_face: _Optional[int] = ..., no_face: _Optional[int] = ..., several_faces: _Optional[int] = ..., usable: _Optional[int] = ..., undecodable: _Optional[int] = ...) -> None: ...

class SignalScore(_message.Message):
    __slots__ = ("name", "mean", "median", "min", "max", "frames", "model")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    name: str
    mean: float
    median: float
    min: float
    max: float
    frames: int
    model: ModelInfo
    def __init__(self, name: _Optional[str] = ..., mean: _Optional[float] = ..., median: _Optional[float] = ..., min: _Optional[float] = ..., max: _Optional[float] = ..., frames: _Optional[int] = ..., model: _Optional[_Union[ModelInfo, _Mapping]] = ...) -> None: ...

class Reason(_message.Message):
    __slots__ = ("code", "state", "signal", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    state: RiskState
    signal: str
    message: str
    def __init__(self, code: _Optional[str] = ..., state: _Optional[_Union[RiskState, str]] = ..., signal: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class StageTimings(_message.Message):
    __slots__ = ("analysis_ms", "result_latency_ms")
    ANALYSIS_MS_FIELD_NUMBER: _ClassVar[int]
    RESULT_LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    analysis_ms: float
    result_latency_ms: float
    def __init__(self, analysis_ms: _Optional[float] = ..., result_latency_ms: _Optional[float] = ...) -> None: ...

class SegmentResult(_message.Message):
    __slots__ = ("session_id", "index", "start_us", "end_us", "frames", "signals", "abstain", "synthetic_confidence", "state", "reasons", "timings", "attack_score", "synthetic_face_confidence")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    START_US_FIELD_NUMBER: _ClassVar[int]
    END_US_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    ABSTAIN_FIELD_NUMBER: _ClassVar[int]
    SYNTHETIC_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    ATTACK_SCORE_FIELD_NUMBER: _ClassVar[int]
    SYNTHETIC_FACE_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    index: int
    start_us: int
    end_us: int
    frames: FrameAccounting
    signals: _containers.RepeatedCompositeFieldContainer[SignalScore]
    abstain: AbstainCode
    synthetic_confidence: float
    state: RiskState
    reasons: _containers.RepeatedCompositeFieldContainer[Reason]
    timings: StageTimings
    attack_score: float
    synthetic_face_confidence: float
    def __init__(self, session_id: _Optional[str] = ..., index: _Optional[int] = ..., start_us: _Optional[int] = ..., end_us: _Optional[int] = ..., frames: _Optional[_Union[FrameAccounting, _Mapping]] = ..., signals: _Optional[_Iterable[_Union[SignalScore, _Mapping]]] = ..., abstain: _Optional[_Union[AbstainCode, str]] = ..., synthetic_confidence: _Optional[float] = ..., state: _Optional[_Union[RiskState, str]] = ..., reasons: _Optional[_Iterable[_Union[Reason, _Mapping]]] = ..., timings: _Optional[_Union[StageTimings, _Mapping]] = ..., attack_score: _Optional[float] = ..., synthetic_face_confidence: _Optional[float] = ...) -> None: ...

class StateChange(_message.Message):
    __slots__ = ("session_id", "to", "segment_index", "at_us", "reasons")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_INDEX_FIELD_NUMBER: _ClassVar[int]
    AT_US_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    to: RiskState
    segment_index: int
    at_us: int
    reasons: _containers.RepeatedCompositeFieldContainer[Reason]
    def __init__(self, session_id: _Optional[str] = ..., to: _Optional[_Union[RiskState, str]] = ..., segment_index: _Optional[int] = ..., at_us: _Optional[int] = ..., reasons: _Optional[_Iterable[_Union[Reason, _Mapping]]] = ..., **kwargs) -> None: ...

class StateShare(_message.Message):
    __slots__ = ("state", "share")
    STATE_FIELD_NUMBER: _ClassVar[int]
    SHARE_FIELD_NUMBER: _ClassVar[int]
    state: RiskState
    share: float
    def __init__(self, state: _Optional[_Union[RiskState, str]] = ..., share: _Optional[float] = ...) -> None: ...

class ReasonTally(_message.Message):
    __slots__ = ("code", "state", "segments", "example", "time_share")
    CODE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    EXAMPLE_FIELD_NUMBER: _ClassVar[int]
    TIME_SHARE_FIELD_NUMBER: _ClassVar[int]
    code: str
    state: RiskState
    segments: int
    example: str
    time_share: float
    def __init__(self, code: _Optional[str] = ..., state: _Optional[_Union[RiskState, str]] = ..., segments: _Optional[int] = ..., example: _Optional[str] = ..., time_share: _Optional[float] = ...) -> None: ...

class SessionSummary(_message.Message):
    __slots__ = ("session_id", "worst_state", "time_share", "frames", "segments", "duration_us", "mean_liveness", "max_synthetic_confidence", "reasons", "complete", "ended_by", "candidate_similarity", "blinks", "max_attack_score")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    WORST_STATE_FIELD_NUMBER: _ClassVar[int]
    TIME_SHARE_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    DURATION_US_FIELD_NUMBER: _ClassVar[int]
    MEAN_LIVENESS_FIELD_NUMBER: _ClassVar[int]
    MAX_SYNTHETIC_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    ENDED_BY_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    BLINKS_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTACK_SCORE_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    worst_state: RiskState
    time_share: _containers.RepeatedCompositeFieldContainer[StateShare]
    frames: FrameAccounting
    segments: int
    duration_us: int
    mean_liveness: float
    max_synthetic_confidence: float
    reasons: _containers.RepeatedCompositeFieldContainer[ReasonTally]
    complete: bool
    ended_by: str
    candidate_similarity: float
    blinks: int
    max_attack_score: float
    def __init__(self, session_id: _Optional[str] = ..., worst_state: _Optional[_Union[RiskState, str]] = ..., time_share: _Optional[_Iterable[_Union[StateShare, _Mapping]]] = ..., frames: _Optional[_Union[FrameAccounting, _Mapping]] = ..., segments: _Optional[int] = ..., duration_us: _Optional[int] = ..., mean_liveness: _Optional[float] = ..., max_synthetic_confidence: _Optional[float] = ..., reasons: _Optional[_Iterable[_Union[ReasonTally, _Mapping]]] = ..., complete: bool = ..., ended_by: _Optional[str] = ..., candidate_similarity: _Optional[float] = ..., blinks: _Optional[int] = ..., max_attack_score: _Optional[float] = ...) -> None: ...

class GetSessionRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class GetSessionResponse(_message.Message):
    __slots__ = ("summary", "segments", "participant_id", "interview_ref", "candidate_ref", "capture")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTERVIEW_REF_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_REF_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_FIELD_NUMBER: _ClassVar[int]
    summary: SessionSummary
    segments: _containers.RepeatedCompositeFieldContainer[SegmentResult]
    participant_id: str
    interview_ref: str
    candidate_ref: str
    capture: CaptureInfo
    def __init__(self, summary: _Optional[_Union[SessionSummary, _Mapping]] = ..., segments: _Optional[_Iterable[_Union[SegmentResult, _Mapping]]] = ..., participant_id: _Optional[str] = ..., interview_ref: _Optional[str] = ..., candidate_ref: _Optional[str] = ..., capture: _Optional[_Union[CaptureInfo, _Mapping]] = ...) -> None: ...

class WatchSessionRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class InfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class InfoResponse(_message.Message):
    __slots__ = ("version", "models", "execution_provider", "max_sessions", "open_sessions", "max_message_bytes", "max_frame_pixels", "formats", "defaults")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MAX_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    OPEN_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_FRAME_PIXELS_FIELD_NUMBER: _ClassVar[int]
    FORMATS_FIELD_NUMBER: _ClassVar[int]
    DEFAULTS_FIELD_NUMBER: _ClassVar[int]
    version: str
    models: _containers.RepeatedCompositeFieldContainer[ModelInfo]
    execution_provider: str
    max_sessions: int
    open_sessions: int
    max_message_bytes: int
    max_frame_pixels: int
    formats: _containers.RepeatedScalarFieldContainer[MediaFormat]
    defaults: EffectiveSettings
    def __init__(self, version: _Optional[str] = ..., models: _Optional[_Iterable[_Union[ModelInfo, _Mapping]]] = ..., execution_provider: _Optional[str] = ..., max_sessions: _Optional[int] = ..., open_sessions: _Optional[int] = ..., max_message_bytes: _Optional[int] = ..., max_frame_pixels: _Optional[int] = ..., formats: _Optional[_Iterable[_Union[MediaFormat, str]]] = ..., defaults: _Optional[_Union[EffectiveSettings, _Mapping]] = ...) -> None: ...

class SubmitJobRequest(_message.Message):
    __slots__ = ("paths", "job_id", "force")
    PATHS_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    paths: _containers.RepeatedScalarFieldContainer[str]
    job_id: str
    force: bool
    def __init__(self, paths: _Optional[_Iterable[str]] = ..., job_id: _Optional[str] = ..., force: bool = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class WatchJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class JobFile(_message.Message):
    __slots__ = ("path", "status", "worst_state", "segments", "mean_liveness", "error")
    PATH_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    WORST_STATE_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    MEAN_LIVENESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    path: str
    status: JobFileStatus
    worst_state: RiskState
    segments: int
    mean_liveness: float
    error: str
    def __init__(self, path: _Optional[str] = ..., status: _Optional[_Union[JobFileStatus, str]] = ..., worst_state: _Optional[_Union[RiskState, str]] = ..., segments: _Optional[int] = ..., mean_liveness: _Optional[float] = ..., error: _Optional[str] = ...) -> None: ...

class JobStatus(_message.Message):
    __slots__ = ("job_id", "total", "pending", "done", "failed", "complete", "running", "files")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    total: int
    pending: int
    done: int
    failed: int
    complete: bool
    running: bool
    files: _containers.RepeatedCompositeFieldContainer[JobFile]
    def __init__(self, job_id: _Optional[str] = ..., total: _Optional[int] = ..., pending: _Optional[int] = ..., done: _Optional[int] = ..., failed: _Optional[int] = ..., complete: bool = ..., running: bool = ..., files: _Optional[_Iterable[_Union[JobFile, _Mapping]]] = ...) -> None: ...

class EnrollCandidateRequest(_message.Message):
    __slots__ = ("candidate_ref", "photo")
    CANDIDATE_REF_FIELD_NUMBER: _ClassVar[int]
    PHOTO_FIELD_NUMBER: _ClassVar[int]
    candidate_ref: str
    photo: bytes
    def __init__(self, candidate_ref: _Optional[str] = ..., photo: _Optional[bytes] = ...) -> None: ...

class EnrollCandidateResponse(_message.Message):
    __slots__ = ("candidate_ref", "model", "matches")
    CANDIDATE_REF_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    candidate_ref: str
    model: ModelInfo
    matches: _containers.RepeatedCompositeFieldContainer[IdentityMatch]
    def __init__(self, candidate_ref: _Optional[str] = ..., model: _Optional[_Union[ModelInfo, _Mapping]] = ..., matches: _Optional[_Iterable[_Union[IdentityMatch, _Mapping]]] = ...) -> None: ...

class IdentityMatch(_message.Message):
    __slots__ = ("kind", "reference", "label", "similarity")
    KIND_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    kind: IdentityMatchKind
    reference: str
    label: str
    similarity: float
    def __init__(self, kind: _Optional[_Union[IdentityMatchKind, str]] = ..., reference: _Optional[str] = ..., label: _Optional[str] = ..., similarity: _Optional[float] = ...) -> None: ...

class AddToBlocklistRequest(_message.Message):
    __slots__ = ("session_id", "candidate_ref", "label", "reason")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_REF_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    candidate_ref: str
    label: str
    reason: str
    def __init__(self, session_id: _Optional[str] = ..., candidate_ref: _Optional[str] = ..., label: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class BlocklistEntry(_message.Message):
    __slots__ = ("entry_id", "label", "reason", "candidate_ref", "source_session", "added_at_ms", "model")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_REF_FIELD_NUMBER: _ClassVar[int]
    SOURCE_SESSION_FIELD_NUMBER: _ClassVar[int]
    ADDED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    entry_id: str
    label: str
    reason: str
    candidate_ref: str
    source_session: str
    added_at_ms: int
    model: str
    def __init__(self, entry_id: _Optional[str] = ..., label: _Optional[str] = ..., reason: _Optional[str] = ..., candidate_ref: _Optional[str] = ..., source_session: _Optional[str] = ..., added_at_ms: _Optional[int] = ..., model: _Optional[str] = ...) -> None: ...

class ListBlocklistRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListBlocklistResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[BlocklistEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[BlocklistEntry, _Mapping]]] = ...) -> None: ...

class RemoveFromBlocklistRequest(_message.Message):
    __slots__ = ("entry_id",)
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    entry_id: str
    def __init__(self, entry_id: _Optional[str] = ...) -> None: ...

class RemoveFromBlocklistResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DeleteCandidateRequest(_message.Message):
    __slots__ = ("candidate_ref",)
    CANDIDATE_REF_FIELD_NUMBER: _ClassVar[int]
    candidate_ref: str
    def __init__(self, candidate_ref: _Optional[str] = ...) -> None: ...

class DeleteCandidateResponse(_message.Message):
    __slots__ = ("sessions", "enrolments", "blocklist_entries")
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    ENROLMENTS_FIELD_NUMBER: _ClassVar[int]
    BLOCKLIST_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    sessions: int
    enrolments: int
    blocklist_entries: int
    def __init__(self, sessions: _Optional[int] = ..., enrolments: _Optional[int] = ..., blocklist_entries: _Optional[int] = ...) -> None: ...

class CreateViewLinkRequest(_message.Message):
    __slots__ = ("session_id", "interview_ref", "ttl_s", "allow_challenges")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    INTERVIEW_REF_FIELD_NUMBER: _ClassVar[int]
    TTL_S_FIELD_NUMBER: _ClassVar[int]
    ALLOW_CHALLENGES_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    interview_ref: str
    ttl_s: int
    allow_challenges: bool
    def __init__(self, session_id: _Optional[str] = ..., interview_ref: _Optional[str] = ..., ttl_s: _Optional[int] = ..., allow_challenges: bool = ...) -> None: ...

class CreateViewLinkResponse(_message.Message):
    __slots__ = ("link_id", "token", "path", "url", "expires_at_unix_s")
    LINK_ID_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_UNIX_S_FIELD_NUMBER: _ClassVar[int]
    link_id: str
    token: str
    path: str
    url: str
    expires_at_unix_s: int
    def __init__(self, link_id: _Optional[str] = ..., token: _Optional[str] = ..., path: _Optional[str] = ..., url: _Optional[str] = ..., expires_at_unix_s: _Optional[int] = ...) -> None: ...
