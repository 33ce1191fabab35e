// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @dev The one call TestPermit2 makes into a contract wallet (EIP-1271).
interface IERC1271Wallet {
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4);
}

/// @title TestPermit2
/// @notice The SignatureTransfer half of Uniswap's Permit2, for tests only: written from its published
/// interface (ISignatureTransfer) and EIP-712 hashing, to sit at Permit2's canonical address
/// (0x000000000022D473030F116dDEE9F6B43aC78BA3) in a local chain's genesis.
/// @dev What a payer, a spender and a relayer can observe is Permit2's:
///  - the EIP-712 domain is ("Permit2", chainId, address(this)), no version;
///  - PermitTransferFrom and PermitWitnessTransferFrom are hashed with msg.sender as the spender, so only
///    the spender that was signed for can spend a permit;
///  - nonces are unordered: bit (nonce & 0xff) of word (nonce >> 8) in nonceBitmap[owner], set once;
///  - checks run in Permit2's order (deadline, amount, nonce, signature, transfer) with its custom errors,
///    and a failed token transfer reverts with solmate's "TRANSFER_FROM_FAILED", as the deployed
///    contract's SafeTransferLib does;
///  - an owner with code is asked through EIP-1271; any other signature is 65 bytes (r‖s‖v) or 64 (EIP-2098).
/// It has no constructor and no immutables, so its runtime code alone, placed in a genesis allocation,
/// is the whole contract. One difference, for test chains only: the chain id of the domain is
/// block.chainid unless the storage slot DOMAIN_CHAIN_ID_SLOT holds another (set in the genesis
/// allocation), so that a local chain can accept what clients sign for a public network's id, as
/// TestUSDC's domain does. The batch transfers and the AllowanceTransfer half are left out.
contract TestPermit2 {
    /// @notice The token and the most that may be spent of it.
    struct TokenPermissions {
        address token;
        uint256 amount;
    }

    /// @notice The signed permit of one token transfer.
    struct PermitTransferFrom {
        TokenPermissions permitted;
        uint256 nonce;
        uint256 deadline;
    }

    /// @notice Where the spender sends the tokens, and how many (at most permitted.amount).
    struct SignatureTransferDetails {
        address to;
        uint256 requestedAmount;
    }

    /// @notice The requested amount is over the permitted one.
    error InvalidAmount(uint256 maxAmount);
    /// @notice The permit's deadline has passed.
    error SignatureExpired(uint256 signatureDeadline);
    /// @notice The permit's nonce was used or invalidated.
    error InvalidNonce();
    /// @notice An EOA's signature is neither 65 nor 64 bytes.
    error InvalidSignatureLength();
    /// @notice The signature recovers to no address.
    error InvalidSignature();
    /// @notice The signature recovers to an address other than the owner.
    error InvalidSigner();
    /// @notice The owner's contract did not accept the signature (EIP-1271).
    error InvalidContractSignature();

    /// @notice The owner set the bits of mask in its nonce word.
    event UnorderedNonceInvalidation(address indexed owner, uint256 word, uint256 mask);

    bytes32 private constant _TYPE_HASH = keccak256("EIP712Domain(string name,uint256 chainId,address verifyingContract)");
    bytes32 private constant _HASHED_NAME = keccak256("Permit2");
    bytes32 private constant _TOKEN_PERMISSIONS_TYPEHASH = keccak256("TokenPermissions(address token,uint256 amount)");
    bytes32 private constant _PERMIT_TRANSFER_FROM_TYPEHASH = keccak256(
        "PermitTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline)TokenPermissions(address token,uint256 amount)"
    );
    string private constant _PERMIT_TRANSFER_FROM_WITNESS_TYPEHASH_STUB =
        "PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline,";
    bytes32 private constant _UPPER_BIT_MASK = 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff;

    /// @notice The storage slot of the domain's chain id override: zero (the default) means block.chainid.
    bytes32 public constant DOMAIN_CHAIN_ID_SLOT = keccak256("paymeter.TestPermit2.domainChainId");

    /// @notice Used nonces: owner → word position → bitmap. Slot 0, as in Permit2.
    mapping(address => mapping(uint256 => uint256)) public nonceBitmap;

    /// @notice The EIP-712 domain separator, computed on each call (Permit2 caches it; the value is the same).
    function DOMAIN_SEPARATOR() public view returns (bytes32) {
        return keccak256(abi.encode(_TYPE_HASH, _HASHED_NAME, domainChainId(), address(this)));
    }

    /// @notice The chain id signed into the domain: the override slot's value, else block.chainid.
    function domainChainId() public view returns (uint256 id) {
        bytes32 slot = DOMAIN_CHAIN_ID_SLOT;
        assembly ("memory-safe") {
            id := sload(slot)
        }
        if (id == 0) {
            id = block.chainid;
        }
    }

    /// @notice Transfers a token with the owner's signed permit, the caller being the signed spender.
    function permitTransferFrom(
        PermitTransferFrom memory permit,
        SignatureTransferDetails calldata transferDetails,
        address owner,
        bytes calldata signature
    ) external {
        bytes32 dataHash = keccak256(
            abi.encode(
                _PERMIT_TRANSFER_FROM_TYPEHASH, _hashTokenPermissions(permit.permitted), msg.sender, permit.nonce,
                permit.deadline
            )
        );
        _permitTransferFrom(permit, transferDetails, owner, dataHash, signature);
    }

    /// @notice Transfers a token with the owner's signed permit that also covers witness, a struct hash
    /// whose type is witnessTypeString: the tail of the full type after "...,uint256 deadline,", which
    /// must name the witness field and define TokenPermissions and the witness type in EIP-712 order.
    function permitWitnessTransferFrom(
        PermitTransferFrom memory permit,
        SignatureTransferDetails calldata transferDetails,
        address owner,
        bytes32 witness,
        string calldata witnessTypeString,
        bytes calldata signature
    ) external {
        bytes32 typeHash = keccak256(abi.encodePacked(_PERMIT_TRANSFER_FROM_WITNESS_TYPEHASH_STUB, witnessTypeString));
        bytes32 dataHash = keccak256(
            abi.encode(
                typeHash, _hashTokenPermissions(permit.permitted), msg.sender, permit.nonce, permit.deadline, witness
            )
        );
        _permitTransferFrom(permit, transferDetails, owner, dataHash, signature);
    }

    /// @notice Marks the bits of mask in the caller's nonce word wordPos as used.
    function invalidateUnorderedNonces(uint256 wordPos, uint256 mask) external {
        nonceBitmap[msg.sender][wordPos] |= mask;
        emit UnorderedNonceInvalidation(msg.sender, wordPos, mask);
    }

    function _permitTransferFrom(
        PermitTransferFrom memory permit,
        SignatureTransferDetails calldata transferDetails,
        address owner,
        bytes32 dataHash,
        bytes calldata signature
    ) private {
        uint256 requestedAmount = transferDetails.requestedAmount;
        if (block.timestamp > permit.deadline) revert SignatureExpired(permit.deadline);
        if (requestedAmount > permit.permitted.amount) revert InvalidAmount(permit.permitted.amount);
        _useUnorderedNonce(owner, permit.nonce);
        _verify(signature, keccak256(abi.encodePacked("\x19\x01", DOMAIN_SEPARATOR(), dataHash)), owner);
        _safeTransferFrom(permit.permitted.token, owner, transferDetails.to, requestedAmount);
    }

    function _hashTokenPermissions(TokenPermissions memory permitted) private pure returns (bytes32) {
        return keccak256(abi.encode(_TOKEN_PERMISSIONS_TYPEHASH, permitted.token, permitted.amount));
    }

    /// @dev Sets the nonce's bit, reverting if it was already set.
    function _useUnorderedNonce(address from, uint256 nonce) private {
        uint256 wordPos = uint248(nonce >> 8);
        uint256 bit = 1 << uint8(nonce);
        uint256 flipped = nonceBitmap[from][wordPos] ^= bit;
        if (flipped & bit == 0) revert InvalidNonce();
    }

    /// @dev Permit2's SignatureVerification: EIP-1271 for an owner with code, else ECDSA (65 or 64 bytes).
    function _verify(bytes calldata signature, bytes32 hash, address claimedSigner) private view {
        if (claimedSigner.code.length > 0) {
            bytes4 magic = IERC1271Wallet(claimedSigner).isValidSignature(hash, signature);
            if (magic != IERC1271Wallet.isValidSignature.selector) revert InvalidContractSignature();
            return;
        }
        bytes32 r;
        bytes32 s;
        uint8 v;
        if (signature.length == 65) {
            r = bytes32(signature[0:32]);
            s = bytes32(signature[32:64]);
            v = uint8(signature[64]);
        } else if (signature.length == 64) {
            r = bytes32(signature[0:32]);
            bytes32 vs = bytes32(signature[32:64]);
            s = vs & _UPPER_BIT_MASK;
            v = uint8(uint256(vs >> 255)) + 27;
        } else {
            revert InvalidSignatureLength();
        }
        address signer = ecrecover(hash, v, r, s);
        if (signer == address(0)) revert InvalidSignature();
        if (signer != claimedSigner) revert InvalidSigner();
    }

    /// @dev solmate's SafeTransferLib.safeTransferFrom: the call must succeed and return nothing or true.
    /// Like it, a token address without code "succeeds": callers check the token.
    function _safeTransferFrom(address token, address from, address to, uint256 amount) private {
        (bool ok, bytes memory ret) = token.call(abi.encodeWithSelector(0x23b872dd, from, to, amount));
        require(
            ok && (ret.length == 0 || (ret.length > 31 && abi.decode(ret, (uint256)) == 1)), "TRANSFER_FROM_FAILED"
        );
    }
}
