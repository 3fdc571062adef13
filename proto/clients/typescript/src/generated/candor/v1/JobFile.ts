// Original file: ../../candor/v1/candor.proto

import type { JobFileStatus as _candor_v1_JobFileStatus, JobFileStatus__Output as _candor_v1_JobFileStatus__Output } from '../../candor/v1/JobFileStatus';
import type { RiskState as _candor_v1_RiskState, RiskState__Output as _candor_v1_RiskState__Output } from '../../candor/v1/RiskState';

export interface JobFile {
  'path'?: (string);
  'status'?: (_candor_v1_JobFileStatus);
  'worstState'?: (_candor_v1_RiskState);
  'segments'?: (number);
  'meanLiveness'?: (number | string);
  'error'?: (string);
  '_meanLiveness'?: "meanLiveness";
}

export interface JobFile__Output {
  'path': (string);
  'status': (_candor_v1_JobFileStatus__Output);
  'worstState': (_candor_v1_RiskState__Output);
  'segments': (number);
  'meanLiveness'?: (number);
  'error': (string);
  '_meanLiveness'?: "meanLiveness";
}
