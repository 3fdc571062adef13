// Original file: ../../candor/v1/candor.proto

import type { BlocklistEntry as _candor_v1_BlocklistEntry, BlocklistEntry__Output as _candor_v1_BlocklistEntry__Output } from '../../candor/v1/BlocklistEntry';

export interface ListBlocklistResponse {
  'entries'?: (_candor_v1_BlocklistEntry)[];
}

export interface ListBlocklistResponse__Output {
  'entries': (_candor_v1_BlocklistEntry__Output)[];
}
