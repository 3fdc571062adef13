// Original file: ../../candor/v1/candor.proto


export interface RemoveFromBlocklistResponse {
}

export interface RemoveFromBlocklistResponse__Output {
}
