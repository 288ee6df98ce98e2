// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

/// @title AnchorRegistry
/// @notice Stores Merkle roots of batches of e-waste custody events (SPEC §3).
/// Only hashes go on-chain: no names, addresses or other personal data.
/// The owner (the regulator who deployed the registry) authorises recycling
/// plants' submitter addresses; each submitter's anchors form an ordered,
/// linked list so a regulator can enumerate every batch a plant ever anchored
/// by reading storage, without relying on event logs.
contract AnchorRegistry {
    struct Anchor {
        uint64 blockNumber;
        uint64 timestamp;
        address submitter;
        uint32 size;
        uint64 seq;
        bytes32 prevRoot;
    }

    /// @notice The regulator: the only account that grants and revokes submitters.
    /// A plain storage slot rather than `immutable`, so the runtime code is
    /// identical for every deployment and can be compared byte for byte.
    address public owner;

    mapping(address => bool) private _submitters;
    mapping(bytes32 => Anchor) private _anchors;
    mapping(address => bytes32[]) private _rootsBySubmitter;

    error NotOwner(address caller);
    error NotSubmitter(address caller);
    error SelfGrant(address account);
    error ZeroAddress();
    error ZeroRoot();
    error ZeroSize();
    error DuplicateRoot(bytes32 root);
    error IndexOutOfRange(address submitter, uint256 index, uint256 count);

    event SubmitterGranted(address indexed account, address indexed by);
    event SubmitterRevoked(address indexed account, address indexed by);
    event Anchored(
        bytes32 indexed root,
        address indexed submitter,
        uint64 seq,
        bytes32 prevRoot,
        uint32 size
    );

    constructor() {
        owner = msg.sender;
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    /// @notice Authorise `account` to anchor roots. The owner may not make
    /// itself a submitter: the regulator and the plants stay separate parties.
    function grantSubmitter(address account) external onlyOwner {
        if (account == address(0)) revert ZeroAddress();
        if (account == msg.sender) revert SelfGrant(account);
        if (!_submitters[account]) {
            _submitters[account] = true;
            emit SubmitterGranted(account, msg.sender);
        }
    }

    /// @notice Withdraw `account`'s right to anchor. Its past anchors remain.
    function revokeSubmitter(address account) external onlyOwner {
        if (_submitters[account]) {
            _submitters[account] = false;
            emit SubmitterRevoked(account, msg.sender);
        }
    }

    function isSubmitter(address account) external view returns (bool) {
        return _submitters[account];
    }

    /// @notice Record `root` (of a batch of `size` event digests) for the caller.
    function anchor(bytes32 root, uint32 size) external {
        if (!_submitters[msg.sender]) revert NotSubmitter(msg.sender);
        if (root == bytes32(0)) revert ZeroRoot();
        if (size == 0) revert ZeroSize();
        if (_anchors[root].blockNumber != 0) revert DuplicateRoot(root);

        bytes32[] storage roots = _rootsBySubmitter[msg.sender];
        uint64 seq = uint64(roots.length);
        bytes32 prevRoot = seq == 0 ? bytes32(0) : roots[seq - 1];

        _anchors[root] = Anchor({
            blockNumber: uint64(block.number),
            timestamp: uint64(block.timestamp),
            submitter: msg.sender,
            size: size,
            seq: seq,
            prevRoot: prevRoot
        });
        roots.push(root);

        emit Anchored(root, msg.sender, seq, prevRoot, size);
    }

    /// @notice The record of `root`; blockNumber is 0 when the root is unknown.
    function getAnchor(bytes32 root)
        external
        view
        returns (
            uint64 blockNumber,
            uint64 timestamp,
            address submitter,
            uint32 size,
            uint64 seq,
            bytes32 prevRoot
        )
    {
        Anchor storage a = _anchors[root];
        return (a.blockNumber, a.timestamp, a.submitter, a.size, a.seq, a.prevRoot);
    }

    function anchorCount(address submitter) external view returns (uint256) {
        return _rootsBySubmitter[submitter].length;
    }

    /// @notice The `index`-th anchor (== its seq) made by `submitter`; the
    /// record's submitter is the argument, so it is not repeated.
    function anchorAt(address submitter, uint256 index)
        external
        view
        returns (
            bytes32 root,
            uint64 blockNumber,
            uint64 timestamp,
            uint32 size,
            uint64 seq,
            bytes32 prevRoot
        )
    {
        bytes32[] storage roots = _rootsBySubmitter[submitter];
        if (index >= roots.length) revert IndexOutOfRange(submitter, index, roots.length);
        root = roots[index];
        Anchor storage a = _anchors[root];
        return (root, a.blockNumber, a.timestamp, a.size, a.seq, a.prevRoot);
    }
}
