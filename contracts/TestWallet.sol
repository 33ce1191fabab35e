// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title TestWallet
/// @notice A minimal EIP-1271 smart wallet, for tests only: a signature is valid iff it is the owner's
/// 65-byte ECDSA signature (r‖s‖v, v 27/28, low s) over the hash exactly as given, with no prefix.
/// @dev It holds tokens simply by being their owner's address in the token's books; it cannot move them,
/// which the tests do not need: a token pulls them with transferWithAuthorization.
contract TestWallet {
    bytes4 private constant MAGIC_VALUE = 0x1626ba7e; // bytes4(keccak256("isValidSignature(bytes32,bytes)"))
    bytes4 private constant INVALID = 0xffffffff;
    uint256 private constant HALF_CURVE_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    /// @notice The EOA whose signatures this wallet accepts.
    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    /// @notice EIP-1271: 0x1626ba7e if signature is the owner's over hash, else 0xffffffff. Never reverts.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length != 65) {
            return INVALID;
        }
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (uint256(s) > HALF_CURVE_ORDER || (v != 27 && v != 28)) {
            return INVALID;
        }
        address signer = ecrecover(hash, v, r, s);
        if (signer == address(0) || signer != owner) {
            return INVALID;
        }
        return MAGIC_VALUE;
    }
}
