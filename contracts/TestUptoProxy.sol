// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @dev The part of Permit2 (Uniswap's ISignatureTransfer) the proxy calls.
interface ISignatureTransfer {
    struct TokenPermissions {
        address token;
        uint256 amount;
    }

    struct PermitTransferFrom {
        TokenPermissions permitted;
        uint256 nonce;
        uint256 deadline;
    }

    struct SignatureTransferDetails {
        address to;
        uint256 requestedAmount;
    }

    function permitWitnessTransferFrom(
        PermitTransferFrom calldata permit,
        SignatureTransferDetails calldata transferDetails,
        address owner,
        bytes32 witness,
        string calldata witnessTypeString,
        bytes calldata signature
    ) external;
}

/// @dev EIP-2612's permit, which settleWithPermit submits for the payer.
interface IERC20Permit {
    function permit(address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external;
}

/// @title TestUptoProxy
/// @notice The x402 `upto` Permit2 proxy, for tests only: written to the ABI @x402/evm ships
/// (x402UptoPermit2ProxyABI: the same functions, selectors, events and errors), to sit at its canonical
/// address (0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002) in a local chain's genesis.
/// @dev The payer signs a Permit2 PermitWitnessTransferFrom whose spender is this contract, for at most
/// permit.permitted.amount of one token, with the witness Witness(to, facilitator, validAfter). settle
/// moves `amount` (≤ the permitted maximum) to witness.to, and only when called by witness.facilitator:
/// the payer chose the payee and the caller, the caller chooses only the amount. Permit2 itself checks
/// the deadline, the nonce (single use) and the signature. Permit2's address is a constant rather than
/// the reference proxy's immutable constructor argument, so the runtime code alone is the whole contract;
/// the re-entrancy guard lives in transient storage (EIP-1153) for the same reason.
contract TestUptoProxy {
    /// @notice Permit2, at its canonical address.
    ISignatureTransfer public constant PERMIT2 = ISignatureTransfer(0x000000000022D473030F116dDEE9F6B43aC78BA3);

    /// @notice The witness's EIP-712 type, as Permit2 wants it: the tail of PermitWitnessTransferFrom's
    /// type after "...,uint256 deadline,", with the referenced types in alphabetical order.
    string public constant WITNESS_TYPE_STRING =
        "Witness witness)TokenPermissions(address token,uint256 amount)Witness(address to,address facilitator,uint256 validAfter)";

    /// @notice The EIP-712 type hash of Witness.
    bytes32 public constant WITNESS_TYPEHASH = keccak256("Witness(address to,address facilitator,uint256 validAfter)");

    /// @notice What the payer binds besides the permit: the payee, the one caller allowed to settle, and
    /// the earliest settlement time (the latest is the permit's deadline).
    struct Witness {
        address to;
        address facilitator;
        uint256 validAfter;
    }

    /// @notice An EIP-2612 permit of the token to Permit2, grouped against stack depth.
    struct EIP2612Permit {
        uint256 value;
        uint256 deadline;
        bytes32 r;
        bytes32 s;
        uint8 v;
    }

    /// @notice settle moved the tokens.
    event Settled();
    /// @notice settleWithPermit moved the tokens.
    event SettledWithPermit();
    /// @notice The token's permit reverted (reason is its revert data); the settlement went on, and
    /// succeeds if Permit2 already had the allowance.
    event EIP2612PermitFailed(address indexed token, address indexed owner, bytes reason);

    /// @notice amount is over permit.permitted.amount.
    error AmountExceedsPermitted();
    /// @notice amount is zero: nothing is settled, and the nonce is not spent on nothing.
    error InvalidAmount();
    /// @notice witness.to is the zero address.
    error InvalidDestination();
    /// @notice owner is the zero address.
    error InvalidOwner();
    /// @notice In the ABI for parity with the reference proxy, whose Permit2 address is an argument; never
    /// thrown here.
    error InvalidPermit2Address();
    /// @notice block.timestamp is before witness.validAfter.
    error PaymentTooEarly();
    /// @notice The EIP-2612 permit's value is not the permitted maximum.
    error Permit2612AmountMismatch();
    /// @notice settle was re-entered.
    error ReentrancyGuardReentrantCall();
    /// @notice The caller is not witness.facilitator.
    error UnauthorizedFacilitator();

    bool private transient _entered;

    modifier nonReentrant() {
        if (_entered) revert ReentrancyGuardReentrantCall();
        _entered = true;
        _;
        _entered = false;
    }

    /// @notice Moves amount (at most the permitted maximum) of the permitted token from owner to
    /// witness.to, with owner's Permit2 signature; the caller must be witness.facilitator.
    function settle(
        ISignatureTransfer.PermitTransferFrom calldata permit,
        uint256 amount,
        address owner,
        Witness calldata witness,
        bytes calldata signature
    ) external nonReentrant {
        if (amount > permit.permitted.amount) revert AmountExceedsPermitted();
        _settle(permit, amount, owner, witness, signature);
        emit Settled();
    }

    /// @notice settle, after submitting owner's EIP-2612 permit of the token to Permit2 (for a payer
    /// who never approved Permit2). A failed permit does not stop the settlement.
    function settleWithPermit(
        EIP2612Permit calldata permit2612,
        ISignatureTransfer.PermitTransferFrom calldata permit,
        uint256 amount,
        address owner,
        Witness calldata witness,
        bytes calldata signature
    ) external nonReentrant {
        if (amount > permit.permitted.amount) revert AmountExceedsPermitted();
        if (permit2612.value != permit.permitted.amount) revert Permit2612AmountMismatch();
        try IERC20Permit(permit.permitted.token).permit(
            owner, address(PERMIT2), permit2612.value, permit2612.deadline, permit2612.v, permit2612.r, permit2612.s
        ) {} catch (bytes memory reason) {
            emit EIP2612PermitFailed(permit.permitted.token, owner, reason);
        }
        _settle(permit, amount, owner, witness, signature);
        emit SettledWithPermit();
    }

    function _settle(
        ISignatureTransfer.PermitTransferFrom calldata permit,
        uint256 amount,
        address owner,
        Witness calldata witness,
        bytes calldata signature
    ) private {
        if (amount == 0) revert InvalidAmount();
        if (owner == address(0)) revert InvalidOwner();
        if (witness.to == address(0)) revert InvalidDestination();
        if (msg.sender != witness.facilitator) revert UnauthorizedFacilitator();
        if (block.timestamp < witness.validAfter) revert PaymentTooEarly();
        bytes32 witnessHash = keccak256(abi.encode(WITNESS_TYPEHASH, witness.to, witness.facilitator, witness.validAfter));
        PERMIT2.permitWitnessTransferFrom(
            permit,
            ISignatureTransfer.SignatureTransferDetails({to: witness.to, requestedAmount: amount}),
            owner,
            witnessHash,
            WITNESS_TYPE_STRING,
            signature
        );
    }
}
