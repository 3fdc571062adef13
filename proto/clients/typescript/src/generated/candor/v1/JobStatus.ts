// Original file: ../../candor/v1/candor.proto

import type { JobFile as _candor_v1_JobFile, JobFile__Output as _candor_v1_JobFile__Output } from '../../candor/v1/JobFile';

export interface JobStatus {
  'jobId'?: (string);
  'total'?: (number);
  'pending'?: (number);
  'done'?: (number);
  'failed'?: (number);
  'complete'?: (boolean);
  'running'?: (boolean);
  'files'?: (_candor_v1_JobFile)[];
}

export interface JobStatus__Output {
  'jobId': (string);
  'total': (number);
  'pending': (number);
  'done': (number);
  'failed': (number);
  'complete': (boolean);
  'running': (boolean);
  'files': (_candor_v1_JobFile__Output)[];
}
