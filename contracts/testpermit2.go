// Code generated - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package contracts

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/event"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = errors.New
	_ = big.NewInt
	_ = strings.NewReader
	_ = ethereum.NotFound
	_ = bind.Bind
	_ = common.Big1
	_ = types.BloomLookup
	_ = event.NewSubscription
	_ = abi.ConvertType
	_ = time.Tick
	_ = context.Background
)

// TestPermit2PermitTransferFrom is an auto generated low-level Go binding around an user-defined struct.
type TestPermit2PermitTransferFrom struct {
	Permitted TestPermit2TokenPermissions
	Nonce     *big.Int
	Deadline  *big.Int
}

// TestPermit2SignatureTransferDetails is an auto generated low-level Go binding around an user-defined struct.
type TestPermit2SignatureTransferDetails struct {
	To              common.Address
	RequestedAmount *big.Int
}

// TestPermit2TokenPermissions is an auto generated low-level Go binding around an user-defined struct.
type TestPermit2TokenPermissions struct {
	Token  common.Address
	Amount *big.Int
}

// TestPermit2MetaData contains all meta data concerning the TestPermit2 contract.
var TestPermit2MetaData = &bind.MetaData{
	ABI: "[{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"maxAmount\",\"type\":\"uint256\"}],\"name\":\"InvalidAmount\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"InvalidContractSignature\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"InvalidNonce\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"InvalidSignature\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"InvalidSignatureLength\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"InvalidSigner\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"signatureDeadline\",\"type\":\"uint256\"}],\"name\":\"SignatureExpired\",\"type\":\"error\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"owner\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"word\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"mask\",\"type\":\"uint256\"}],\"name\":\"UnorderedNonceInvalidation\",\"type\":\"event\"},{\"inputs\":[],\"name\":\"DOMAIN_CHAIN_ID_SLOT\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"DOMAIN_SEPARATOR\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"domainChainId\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"id\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"wordPos\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"mask\",\"type\":\"uint256\"}],\"name\":\"invalidateUnorderedNonces\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"name\":\"nonceBitmap\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"}],\"internalType\":\"structTestPermit2.TokenPermissions\",\"name\":\"permitted\",\"type\":\"tuple\"},{\"internalType\":\"uint256\",\"name\":\"nonce\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"deadline\",\"type\":\"uint256\"}],\"internalType\":\"structTestPermit2.PermitTransferFrom\",\"name\":\"permit\",\"type\":\"tuple\"},{\"components\":[{\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"requestedAmount\",\"type\":\"uint256\"}],\"internalType\":\"structTestPermit2.SignatureTransferDetails\",\"name\":\"transferDetails\",\"type\":\"tuple\"},{\"internalType\":\"address\",\"name\":\"owner\",\"type\":\"address\"},{\"internalType\":\"bytes\",\"name\":\"signature\",\"type\":\"bytes\"}],\"name\":\"permitTransferFrom\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"}],\"internalType\":\"structTestPermit2.TokenPermissions\",\"name\":\"permitted\",\"type\":\"tuple\"},{\"internalType\":\"uint256\",\"name\":\"nonce\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"deadline\",\"type\":\"uint256\"}],\"internalType\":\"structTestPermit2.PermitTransferFrom\",\"name\":\"permit\",\"type\":\"tuple\"},{\"components\":[{\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"requestedAmount\",\"type\":\"uint256\"}],\"internalType\":\"structTestPermit2.SignatureTransferDetails\",\"name\":\"transferDetails\",\"type\":\"tuple\"},{\"internalType\":\"address\",\"name\":\"owner\",\"type\":\"address\"},{\"internalType\":\"bytes32\",\"name\":\"witness\",\"type\":\"bytes32\"},{\"internalType\":\"string\",\"name\":\"witnessTypeString\",\"type\":\"string\"},{\"internalType\":\"bytes\",\"name\":\"signature\",\"type\":\"bytes\"}],\"name\":\"permitWitnessTransferFrom\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"}]",
	Bin: "0x6080604052348015600e575f5ffd5b50610d4b8061001c5f395ff3fe608060405234801561000f575f5ffd5b506004361061007a575f3560e01c80633644e515116100585780633644e515146100df5780633ff9dcb1146100e75780634fe02b44146100fa578063a1c6997914610121575f5ffd5b8063030906391461007e578063137c29fe146100b757806330f28b7a146100cc575b5f5ffd5b6100a57fc481d1850b3c9bcd77910538f47f2c9d9b94daf5b0a24e1cc880050f379ca7f481565b60405190815260200160405180910390f35b6100ca6100c53660046109f6565b610129565b005b6100ca6100da366004610aa4565b6101ea565b6100a561027a565b6100ca6100f5366004610b18565b610300565b6100a5610108366004610b38565b5f60208181529281526040808220909352908152205481565b6100a5610358565b5f6040518060a0016040528060648152602001610cb260649139858560405160200161015793929190610b77565b6040516020818303038152906040528051906020012090505f8161017d8b5f015161038c565b6020808d01516040808f0151815193840195909552820192909252336060820152608081019190915260a081019190915260c0810188905260e0016040516020818303038152906040528051906020012090506101de8a8a8a8488886103fe565b50505050505050505050565b5f7f939c21a48a8dbe3a9a2404a1d46691e4d39f6583d6ec6b35714604c986d80106610218875f015161038c565b6020808901516040808b0151815193840195909552820192909252336060820152608081019190915260a081019190915260c0016040516020818303038152906040528051906020012090506102728686868487876103fe565b505050505050565b5f7f8cad95687ba82c2ce50e74f7b754645e5117c3a5bec8151c0726d5857980a8667f9ac997416e8ff9d2ff6bebeb7149f65cdae5e32e2b90440b566bb3044041d36a6102c5610358565b604080516020810194909452830191909152606082015230608082015260a00160405160208183030381529060405280519060200120905090565b335f8181526020818152604080832086845282529182902080548517905581518581529081018490527f3704902f963766a4e561bbaab6e6cdc1b1dd12f6e9e99648da8843b3f46b918d910160405180910390a25050565b7fc481d1850b3c9bcd77910538f47f2c9d9b94daf5b0a24e1cc880050f379ca7f48054905f829003610388574691505b5090565b80516020808301516040515f936103e1937f618358ac3db8dc274f0cd8829da7e234bd48cd73c4a740aede1adec9846d06a1939192019283526001600160a01b03919091166020830152604082015260600190565b604051602081830303815290604052805190602001209050919050565b604086015160208601359042111561043a57866040015160405163cd21db4f60e01b815260040161043191815260200190565b60405180910390fd5b86516020015181111561046a57865160200151604051633728b83d60e01b81526004810191909152602401610431565b6104788588602001516104e5565b6104c1838361048561027a565b60405161190160f01b60208201526022810191909152604281018890526062016040516020818303038152906040528051906020012088610544565b8651516104dc90866104d660208a018a610b95565b84610798565b50505050505050565b6001600160a01b0382165f90815260208181526040808320600885901c808552925282208054600160ff86161b908118918290559192818316900361053d57604051633ab3447f60e11b815260040160405180910390fd5b5050505050565b6001600160a01b0381163b156105fe57604051630b135d3f60e11b81525f906001600160a01b03831690631626ba7e9061058690869089908990600401610bb5565b602060405180830381865afa1580156105a1573d5f5f3e3d5ffd5b505050506040513d601f19601f820116820180604052508101906105c59190610bea565b90506001600160e01b03198116630b135d3f60e11b146105f857604051632c19a72f60e21b815260040160405180910390fd5b50610792565b5f8080604186900361065f5761061760205f888a610c11565b61062091610c38565b925061063060406020888a610c11565b61063991610c38565b91508686604081811061064e5761064e610c56565b919091013560f81c91506106d69050565b60408690036106bd5761067560205f888a610c11565b61067e91610c38565b92505f61068f60406020898b610c11565b61069891610c38565b6001600160ff1b038116935090506106b560ff82901c601b610c6a565b9150506106d6565b604051634be6321b60e01b815260040160405180910390fd5b604080515f8082526020820180845288905260ff841692820192909252606081018590526080810184905260019060a0016020604051602081039080840390855afa158015610727573d5f5f3e3d5ffd5b5050604051601f1901519150506001600160a01b03811661075b57604051638baa579f60e01b815260040160405180910390fd5b846001600160a01b0316816001600160a01b03161461078d57604051632057875960e21b815260040160405180910390fd5b505050505b50505050565b604080516001600160a01b0385811660248301528481166044830152606480830185905283518084039091018152608490920183526020820180516001600160e01b03166323b872dd60e01b17905291515f928392908816916107fb9190610c8f565b5f604051808303815f865af19150503d805f8114610834576040519150601f19603f3d011682016040523d82523d5f602084013e610839565b606091505b50915091508180156108735750805115806108735750601f815111801561087357508080602001905181019061086f9190610c9a565b6001145b6102725760405162461bcd60e51b81526020600482015260146024820152731514905394d1915497d19493d357d1905253115160621b6044820152606401610431565b6040805190810167ffffffffffffffff811182821017156108e557634e487b7160e01b5f52604160045260245ffd5b60405290565b80356001600160a01b0381168114610901575f5ffd5b919050565b5f8183036080811215610917575f5ffd5b6040516060810167ffffffffffffffff8111828210171561094657634e487b7160e01b5f52604160045260245ffd5b8060405250809250604082121561095b575f5ffd5b6109636108b6565b915061096e846108eb565b82526020848101358184015291815260408085013592820192909252606090930135920191909152919050565b5f604082840312156109ab575f5ffd5b50919050565b5f5f83601f8401126109c1575f5ffd5b50813567ffffffffffffffff8111156109d8575f5ffd5b6020830191508360208285010111156109ef575f5ffd5b9250929050565b5f5f5f5f5f5f5f5f610140898b031215610a0e575f5ffd5b610a188a8a610906565b9750610a278a60808b0161099b565b9650610a3560c08a016108eb565b955060e0890135945061010089013567ffffffffffffffff811115610a58575f5ffd5b610a648b828c016109b1565b90955093505061012089013567ffffffffffffffff811115610a84575f5ffd5b610a908b828c016109b1565b999c989b5096995094979396929594505050565b5f5f5f5f5f6101008688031215610ab9575f5ffd5b610ac38787610906565b9450610ad2876080880161099b565b9350610ae060c087016108eb565b925060e086013567ffffffffffffffff811115610afb575f5ffd5b610b07888289016109b1565b969995985093965092949392505050565b5f5f60408385031215610b29575f5ffd5b50508035926020909101359150565b5f5f60408385031215610b49575f5ffd5b610b52836108eb565b946020939093013593505050565b5f81518060208401855e5f93019283525090919050565b5f610b828286610b60565b838582375f930192835250909392505050565b5f60208284031215610ba5575f5ffd5b610bae826108eb565b9392505050565b83815260406020820152816040820152818360608301375f818301606090810191909152601f909201601f1916010192915050565b5f60208284031215610bfa575f5ffd5b81516001600160e01b031981168114610bae575f5ffd5b5f5f85851115610c1f575f5ffd5b83861115610c2b575f5ffd5b5050820193919092039150565b80356020831015610c50575f19602084900360031b1b165b92915050565b634e487b7160e01b5f52603260045260245ffd5b60ff8181168382160190811115610c5057634e487b7160e01b5f52601160045260245ffd5b5f610bae8284610b60565b5f60208284031215610caa575f5ffd5b505191905056fe5065726d69745769746e6573735472616e7366657246726f6d28546f6b656e5065726d697373696f6e73207065726d69747465642c61646472657373207370656e6465722c75696e74323536206e6f6e63652c75696e7432353620646561646c696e652ca2646970667358221220aa55424a5a5b25945ff1dfc6317b142b8743b55a5919494485da55e5716e9fb464736f6c63430008250033",
}

// TestPermit2ABI is the input ABI used to generate the binding from.
// Deprecated: Use TestPermit2MetaData.ABI instead.
var TestPermit2ABI = TestPermit2MetaData.ABI

// TestPermit2Bin is the compiled bytecode used for deploying new contracts.
// Deprecated: Use TestPermit2MetaData.Bin instead.
var TestPermit2Bin = TestPermit2MetaData.Bin

// DeployTestPermit2 deploys a new Ethereum contract, binding an instance of TestPermit2 to it.
func DeployTestPermit2(auth *bind.TransactOpts, backend bind.ContractBackend) (common.Address, *types.Transaction, *TestPermit2, error) {
	parsed, err := TestPermit2MetaData.GetAbi()
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	if parsed == nil {
		return common.Address{}, nil, nil, errors.New("GetABI returned nil")
	}

	address, tx, contract, err := bind.DeployContract(auth, *parsed, common.FromHex(TestPermit2Bin), backend)
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	return address, tx, &TestPermit2{TestPermit2Caller: TestPermit2Caller{contract: contract}, TestPermit2Transactor: TestPermit2Transactor{contract: contract}, TestPermit2Filterer: TestPermit2Filterer{contract: contract}}, nil
}

// TestPermit2 is an auto generated Go binding around an Ethereum contract.
type TestPermit2 struct {
	TestPermit2Caller     // Read-only binding to the contract
	TestPermit2Transactor // Write-only binding to the contract
	TestPermit2Filterer   // Log filterer for contract events
}

// TestPermit2Caller is an auto generated read-only Go binding around an Ethereum contract.
type TestPermit2Caller struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// TestPermit2Transactor is an auto generated write-only Go binding around an Ethereum contract.
type TestPermit2Transactor struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// TestPermit2Filterer is an auto generated log filtering Go binding around an Ethereum contract events.
type TestPermit2Filterer struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// TestPermit2Session is an auto generated Go binding around an Ethereum contract,
// with pre-set call and transact options.
type TestPermit2Session struct {
	Contract     *TestPermit2      // Generic contract binding to set the session for
	CallOpts     bind.CallOpts     // Call options to use throughout this session
	TransactOpts bind.TransactOpts // Transaction auth options to use throughout this session
}

// TestPermit2CallerSession is an auto generated read-only Go binding around an Ethereum contract,
// with pre-set call options.
type TestPermit2CallerSession struct {
	Contract *TestPermit2Caller // Generic contract caller binding to set the session for
	CallOpts bind.CallOpts      // Call options to use throughout this session
}

// TestPermit2TransactorSession is an auto generated write-only Go binding around an Ethereum contract,
// with pre-set transact options.
type TestPermit2TransactorSession struct {
	Contract     *TestPermit2Transactor // Generic contract transactor binding to set the session for
	TransactOpts bind.TransactOpts      // Transaction auth options to use throughout this session
}

// TestPermit2Raw is an auto generated low-level Go binding around an Ethereum contract.
type TestPermit2Raw struct {
	Contract *TestPermit2 // Generic contract binding to access the raw methods on
}

// TestPermit2CallerRaw is an auto generated low-level read-only Go binding around an Ethereum contract.
type TestPermit2CallerRaw struct {
	Contract *TestPermit2Caller // Generic read-only contract binding to access the raw methods on
}

// TestPermit2TransactorRaw is an auto generated low-level write-only Go binding around an Ethereum contract.
type TestPermit2TransactorRaw struct {
	Contract *TestPermit2Transactor // Generic write-only contract binding to access the raw methods on
}

// NewTestPermit2 creates a new instance of TestPermit2, bound to a specific deployed contract.
func NewTestPermit2(address common.Address, backend bind.ContractBackend) (*TestPermit2, error) {
	contract, err := bindTestPermit2(address, backend, backend, backend)
	if err != nil {
		return nil, err
	}
	return &TestPermit2{TestPermit2Caller: TestPermit2Caller{contract: contract}, TestPermit2Transactor: TestPermit2Transactor{contract: contract}, TestPermit2Filterer: TestPermit2Filterer{contract: contract}}, nil
}

// NewTestPermit2Caller creates a new read-only instance of TestPermit2, bound to a specific deployed contract.
func NewTestPermit2Caller(address common.Address, caller bind.ContractCaller) (*TestPermit2Caller, error) {
	contract, err := bindTestPermit2(address, caller, nil, nil)
	if err != nil {
		return nil, err
	}
	return &TestPermit2Caller{contract: contract}, nil
}

// NewTestPermit2Transactor creates a new write-only instance of TestPermit2, bound to a specific deployed contract.
func NewTestPermit2Transactor(address common.Address, transactor bind.ContractTransactor) (*TestPermit2Transactor, error) {
	contract, err := bindTestPermit2(address, nil, transactor, nil)
	if err != nil {
		return nil, err
	}
	return &TestPermit2Transactor{contract: contract}, nil
}

// NewTestPermit2Filterer creates a new log filterer instance of TestPermit2, bound to a specific deployed contract.
func NewTestPermit2Filterer(address common.Address, filterer bind.ContractFilterer) (*TestPermit2Filterer, error) {
	contract, err := bindTestPermit2(address, nil, nil, filterer)
	if err != nil {
		return nil, err
	}
	return &TestPermit2Filterer{contract: contract}, nil
}

// bindTestPermit2 binds a generic wrapper to an already deployed contract.
func bindTestPermit2(address common.Address, caller bind.ContractCaller, transactor bind.ContractTransactor, filterer bind.ContractFilterer) (*bind.BoundContract, error) {
	parsed, err := TestPermit2MetaData.GetAbi()
	if err != nil {
		return nil, err
	}
	return bind.NewBoundContract(address, *parsed, caller, transactor, filterer), nil
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_TestPermit2 *TestPermit2Raw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _TestPermit2.Contract.TestPermit2Caller.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_TestPermit2 *TestPermit2Raw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _TestPermit2.Contract.TestPermit2Transactor.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_TestPermit2 *TestPermit2Raw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _TestPermit2.Contract.TestPermit2Transactor.contract.Transact(opts, method, params...)
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_TestPermit2 *TestPermit2CallerRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _TestPermit2.Contract.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_TestPermit2 *TestPermit2TransactorRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _TestPermit2.Contract.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_TestPermit2 *TestPermit2TransactorRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _TestPermit2.Contract.contract.Transact(opts, method, params...)
}

// DOMAINCHAINIDSLOT is a free data retrieval call binding the contract method 0x03090639.
//
// Solidity: function DOMAIN_CHAIN_ID_SLOT() view returns(bytes32)
func (_TestPermit2 *TestPermit2Caller) DOMAINCHAINIDSLOT(opts *bind.CallOpts) ([32]byte, error) {
	var out []interface{}
	err := _TestPermit2.contract.Call(opts, &out, "DOMAIN_CHAIN_ID_SLOT")

	if err != nil {
		return *new([32]byte), err
	}

	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)

	return out0, err

}

// DOMAINCHAINIDSLOT is a free data retrieval call binding the contract method 0x03090639.
//
// Solidity: function DOMAIN_CHAIN_ID_SLOT() view returns(bytes32)
func (_TestPermit2 *TestPermit2Session) DOMAINCHAINIDSLOT() ([32]byte, error) {
	return _TestPermit2.Contract.DOMAINCHAINIDSLOT(&_TestPermit2.CallOpts)
}

// DOMAINCHAINIDSLOT is a free data retrieval call binding the contract method 0x03090639.
//
// Solidity: function DOMAIN_CHAIN_ID_SLOT() view returns(bytes32)
func (_TestPermit2 *TestPermit2CallerSession) DOMAINCHAINIDSLOT() ([32]byte, error) {
	return _TestPermit2.Contract.DOMAINCHAINIDSLOT(&_TestPermit2.CallOpts)
}

// DOMAINSEPARATOR is a free data retrieval call binding the contract method 0x3644e515.
//
// Solidity: function DOMAIN_SEPARATOR() view returns(bytes32)
func (_TestPermit2 *TestPermit2Caller) DOMAINSEPARATOR(opts *bind.CallOpts) ([32]byte, error) {
	var out []interface{}
	err := _TestPermit2.contract.Call(opts, &out, "DOMAIN_SEPARATOR")

	if err != nil {
		return *new([32]byte), err
	}

	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)

	return out0, err

}

// DOMAINSEPARATOR is a free data retrieval call binding the contract method 0x3644e515.
//
// Solidity: function DOMAIN_SEPARATOR() view returns(bytes32)
func (_TestPermit2 *TestPermit2Session) DOMAINSEPARATOR() ([32]byte, error) {
	return _TestPermit2.Contract.DOMAINSEPARATOR(&_TestPermit2.CallOpts)
}

// DOMAINSEPARATOR is a free data retrieval call binding the contract method 0x3644e515.
//
// Solidity: function DOMAIN_SEPARATOR() view returns(bytes32)
func (_TestPermit2 *TestPermit2CallerSession) DOMAINSEPARATOR() ([32]byte, error) {
	return _TestPermit2.Contract.DOMAINSEPARATOR(&_TestPermit2.CallOpts)
}

// DomainChainId is a free data retrieval call binding the contract method 0xa1c69979.
//
// Solidity: function domainChainId() view returns(uint256 id)
func (_TestPermit2 *TestPermit2Caller) DomainChainId(opts *bind.CallOpts) (*big.Int, error) {
	var out []interface{}
	err := _TestPermit2.contract.Call(opts, &out, "domainChainId")

	if err != nil {
		return *new(*big.Int), err
	}

	out0 := *abi.ConvertType(out[0], new(*big.Int)).(**big.Int)

	return out0, err

}

// DomainChainId is a free data retrieval call binding the contract method 0xa1c69979.
//
// Solidity: function domainChainId() view returns(uint256 id)
func (_TestPermit2 *TestPermit2Session) DomainChainId() (*big.Int, error) {
	return _TestPermit2.Contract.DomainChainId(&_TestPermit2.CallOpts)
}

// DomainChainId is a free data retrieval call binding the contract method 0xa1c69979.
//
// Solidity: function domainChainId() view returns(uint256 id)
func (_TestPermit2 *TestPermit2CallerSession) DomainChainId() (*big.Int, error) {
	return _TestPermit2.Contract.DomainChainId(&_TestPermit2.CallOpts)
}

// NonceBitmap is a free data retrieval call binding the contract method 0x4fe02b44.
//
// Solidity: function nonceBitmap(address , uint256 ) view returns(uint256)
func (_TestPermit2 *TestPermit2Caller) NonceBitmap(opts *bind.CallOpts, arg0 common.Address, arg1 *big.Int) (*big.Int, error) {
	var out []interface{}
	err := _TestPermit2.contract.Call(opts, &out, "nonceBitmap", arg0, arg1)

	if err != nil {
		return *new(*big.Int), err
	}

	out0 := *abi.ConvertType(out[0], new(*big.Int)).(**big.Int)

	return out0, err

}

// NonceBitmap is a free data retrieval call binding the contract method 0x4fe02b44.
//
// Solidity: function nonceBitmap(address , uint256 ) view returns(uint256)
func (_TestPermit2 *TestPermit2Session) NonceBitmap(arg0 common.Address, arg1 *big.Int) (*big.Int, error) {
	return _TestPermit2.Contract.NonceBitmap(&_TestPermit2.CallOpts, arg0, arg1)
}

// NonceBitmap is a free data retrieval call binding the contract method 0x4fe02b44.
//
// Solidity: function nonceBitmap(address , uint256 ) view returns(uint256)
func (_TestPermit2 *TestPermit2CallerSession) NonceBitmap(arg0 common.Address, arg1 *big.Int) (*big.Int, error) {
	return _TestPermit2.Contract.NonceBitmap(&_TestPermit2.CallOpts, arg0, arg1)
}

// InvalidateUnorderedNonces is a paid mutator transaction binding the contract method 0x3ff9dcb1.
//
// Solidity: function invalidateUnorderedNonces(uint256 wordPos, uint256 mask) returns()
func (_TestPermit2 *TestPermit2Transactor) InvalidateUnorderedNonces(opts *bind.TransactOpts, wordPos *big.Int, mask *big.Int) (*types.Transaction, error) {
	return _TestPermit2.contract.Transact(opts, "invalidateUnorderedNonces", wordPos, mask)
}

// InvalidateUnorderedNonces is a paid mutator transaction binding the contract method 0x3ff9dcb1.
//
// Solidity: function invalidateUnorderedNonces(uint256 wordPos, uint256 mask) returns()
func (_TestPermit2 *TestPermit2Session) InvalidateUnorderedNonces(wordPos *big.Int, mask *big.Int) (*types.Transaction, error) {
	return _TestPermit2.Contract.InvalidateUnorderedNonces(&_TestPermit2.TransactOpts, wordPos, mask)
}

// InvalidateUnorderedNonces is a paid mutator transaction binding the contract method 0x3ff9dcb1.
//
// Solidity: function invalidateUnorderedNonces(uint256 wordPos, uint256 mask) returns()
func (_TestPermit2 *TestPermit2TransactorSession) InvalidateUnorderedNonces(wordPos *big.Int, mask *big.Int) (*types.Transaction, error) {
	return _TestPermit2.Contract.InvalidateUnorderedNonces(&_TestPermit2.TransactOpts, wordPos, mask)
}

// PermitTransferFrom is a paid mutator transaction binding the contract method 0x30f28b7a.
//
// Solidity: function permitTransferFrom(((address,uint256),uint256,uint256) permit, (address,uint256) transferDetails, address owner, bytes signature) returns()
func (_TestPermit2 *TestPermit2Transactor) PermitTransferFrom(opts *bind.TransactOpts, permit TestPermit2PermitTransferFrom, transferDetails TestPermit2SignatureTransferDetails, owner common.Address, signature []byte) (*types.Transaction, error) {
	return _TestPermit2.contract.Transact(opts, "permitTransferFrom", permit, transferDetails, owner, signature)
}

// PermitTransferFrom is a paid mutator transaction binding the contract method 0x30f28b7a.
//
// Solidity: function permitTransferFrom(((address,uint256),uint256,uint256) permit, (address,uint256) transferDetails, address owner, bytes signature) returns()
func (_TestPermit2 *TestPermit2Session) PermitTransferFrom(permit TestPermit2PermitTransferFrom, transferDetails TestPermit2SignatureTransferDetails, owner common.Address, signature []byte) (*types.Transaction, error) {
	return _TestPermit2.Contract.PermitTransferFrom(&_TestPermit2.TransactOpts, permit, transferDetails, owner, signature)
}

// PermitTransferFrom is a paid mutator transaction binding the contract method 0x30f28b7a.
//
// Solidity: function permitTransferFrom(((address,uint256),uint256,uint256) permit, (address,uint256) transferDetails, address owner, bytes signature) returns()
func (_TestPermit2 *TestPermit2TransactorSession) PermitTransferFrom(permit TestPermit2PermitTransferFrom, transferDetails TestPermit2SignatureTransferDetails, owner common.Address, signature []byte) (*types.Transaction, error) {
	return _TestPermit2.Contract.PermitTransferFrom(&_TestPermit2.TransactOpts, permit, transferDetails, owner, signature)
}

// PermitWitnessTransferFrom is a paid mutator transaction binding the contract method 0x137c29fe.
//
// Solidity: function permitWitnessTransferFrom(((address,uint256),uint256,uint256) permit, (address,uint256) transferDetails, address owner, bytes32 witness, string witnessTypeString, bytes signature) returns()
func (_TestPermit2 *TestPermit2Transactor) PermitWitnessTransferFrom(opts *bind.TransactOpts, permit TestPermit2PermitTransferFrom, transferDetails TestPermit2SignatureTransferDetails, owner common.Address, witness [32]byte, witnessTypeString string, signature []byte) (*types.Transaction, error) {
	return _TestPermit2.contract.Transact(opts, "permitWitnessTransferFrom", permit, transferDetails, owner, witness, witnessTypeString, signature)
}

// PermitWitnessTransferFrom is a paid mutator transaction binding the contract method 0x137c29fe.
//
// Solidity: function permitWitnessTransferFrom(((address,uint256),uint256,uint256) permit, (address,uint256) transferDetails, address owner, bytes32 witness, string witnessTypeString, bytes signature) returns()
func (_TestPermit2 *TestPermit2Session) PermitWitnessTransferFrom(permit TestPermit2PermitTransferFrom, transferDetails TestPermit2SignatureTransferDetails, owner common.Address, witness [32]byte, witnessTypeString string, signature []byte) (*types.Transaction, error) {
	return _TestPermit2.Contract.PermitWitnessTransferFrom(&_TestPermit2.TransactOpts, permit, transferDetails, owner, witness, witnessTypeString, signature)
}

// PermitWitnessTransferFrom is a paid mutator transaction binding the contract method 0x137c29fe.
//
// Solidity: function permitWitnessTransferFrom(((address,uint256),uint256,uint256) permit, (address,uint256) transferDetails, address owner, bytes32 witness, string witnessTypeString, bytes signature) returns()
func (_TestPermit2 *TestPermit2TransactorSession) PermitWitnessTransferFrom(permit TestPermit2PermitTransferFrom, transferDetails TestPermit2SignatureTransferDetails, owner common.Address, witness [32]byte, witnessTypeString string, signature []byte) (*types.Transaction, error) {
	return _TestPermit2.Contract.PermitWitnessTransferFrom(&_TestPermit2.TransactOpts, permit, transferDetails, owner, witness, witnessTypeString, signature)
}

// TestPermit2UnorderedNonceInvalidationIterator is returned from FilterUnorderedNonceInvalidation and is used to iterate over the raw logs and unpacked data for UnorderedNonceInvalidation events raised by the TestPermit2 contract.
type TestPermit2UnorderedNonceInvalidationIterator struct {
	Event *TestPermit2UnorderedNonceInvalidation // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *TestPermit2UnorderedNonceInvalidationIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(TestPermit2UnorderedNonceInvalidation)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(TestPermit2UnorderedNonceInvalidation)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *TestPermit2UnorderedNonceInvalidationIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *TestPermit2UnorderedNonceInvalidationIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// TestPermit2UnorderedNonceInvalidation represents a UnorderedNonceInvalidation event raised by the TestPermit2 contract.
type TestPermit2UnorderedNonceInvalidation struct {
	Owner common.Address
	Word  *big.Int
	Mask  *big.Int
	Raw   types.Log // Blockchain specific contextual infos
}

// FilterUnorderedNonceInvalidation is a free log retrieval operation binding the contract event 0x3704902f963766a4e561bbaab6e6cdc1b1dd12f6e9e99648da8843b3f46b918d.
//
// Solidity: event UnorderedNonceInvalidation(address indexed owner, uint256 word, uint256 mask)
func (_TestPermit2 *TestPermit2Filterer) FilterUnorderedNonceInvalidation(opts *bind.FilterOpts, owner []common.Address) (*TestPermit2UnorderedNonceInvalidationIterator, error) {

	var ownerRule []interface{}
	for _, ownerItem := range owner {
		ownerRule = append(ownerRule, ownerItem)
	}

	logs, sub, err := _TestPermit2.contract.FilterLogs(opts, "UnorderedNonceInvalidation", ownerRule)
	if err != nil {
		return nil, err
	}
	return &TestPermit2UnorderedNonceInvalidationIterator{contract: _TestPermit2.contract, event: "UnorderedNonceInvalidation", logs: logs, sub: sub}, nil
}

// WatchUnorderedNonceInvalidation is a free log subscription operation binding the contract event 0x3704902f963766a4e561bbaab6e6cdc1b1dd12f6e9e99648da8843b3f46b918d.
//
// Solidity: event UnorderedNonceInvalidation(address indexed owner, uint256 word, uint256 mask)
func (_TestPermit2 *TestPermit2Filterer) WatchUnorderedNonceInvalidation(opts *bind.WatchOpts, sink chan<- *TestPermit2UnorderedNonceInvalidation, owner []common.Address) (event.Subscription, error) {

	var ownerRule []interface{}
	for _, ownerItem := range owner {
		ownerRule = append(ownerRule, ownerItem)
	}

	logs, sub, err := _TestPermit2.contract.WatchLogs(opts, "UnorderedNonceInvalidation", ownerRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(TestPermit2UnorderedNonceInvalidation)
				if err := _TestPermit2.contract.UnpackLog(event, "UnorderedNonceInvalidation", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseUnorderedNonceInvalidation is a log parse operation binding the contract event 0x3704902f963766a4e561bbaab6e6cdc1b1dd12f6e9e99648da8843b3f46b918d.
//
// Solidity: event UnorderedNonceInvalidation(address indexed owner, uint256 word, uint256 mask)
func (_TestPermit2 *TestPermit2Filterer) ParseUnorderedNonceInvalidation(log types.Log) (*TestPermit2UnorderedNonceInvalidation, error) {
	event := new(TestPermit2UnorderedNonceInvalidation)
	if err := _TestPermit2.contract.UnpackLog(event, "UnorderedNonceInvalidation", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}
